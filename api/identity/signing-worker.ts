/**
 * A signing thread (see `signing.ts`): it holds the keys it is given and signs digests with them.
 * It imports packages only and uses type annotations alone, so Node runs it as it is (its types
 * stripped), whether or not the process loads TypeScript through tsx.
 */
import { parentPort } from "node:worker_threads";

import { SigningKey } from "ethers";

/** What the gateway's thread sends: a key to keep under `slot`, or a digest to sign with one. */
export type SigningRequest =
  { kind: "key"; slot: number; privateKey: string } | { kind: "sign"; id: number; slot: number; digest: string };

/** What it gets back for a digest: the signature's parts, or why there is none. */
export type SigningAnswer = { id: number; r: string; s: string; v: 27 | 28 } | { id: number; error: string };

const keys = new Map<number, SigningKey>();

parentPort?.on("message", (request: SigningRequest) => {
  if (request.kind === "key") {
    keys.set(request.slot, new SigningKey(request.privateKey));
    return;
  }
  const key = keys.get(request.slot);
  let answer: SigningAnswer;
  try {
    if (key === undefined) throw new Error(`no key in slot ${request.slot}`);
    const { r, s, v } = key.sign(request.digest);
    answer = { id: request.id, r, s, v };
  } catch (error) {
    answer = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(answer);
});
