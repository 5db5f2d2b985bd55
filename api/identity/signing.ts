import { Worker } from "node:worker_threads";

import { Signature, SigningKey } from "ethers";

import type { SigningAnswer, SigningRequest } from "./signing-worker.js";

/** Signs a transaction's digest (32 bytes, hex). */
export type DigestSigner = (digest: string) => Promise<Signature>;

const WORKER = new URL("./signing-worker.ts", import.meta.url);

/**
 * Signs custodial transactions' digests on a thread of its own, off the one that answers requests:
 * a secp256k1 signature in JavaScript takes most of a millisecond, the largest piece of a custodial
 * write's work, and on the request thread it bounded how many writes the gateway could send. Each
 * key is handed to the thread once and kept there, within this process, as the request thread
 * keeps it. The thread starts with the first signature and does not keep the process alive; should
 * it fail, signing goes on in-line.
 */
export class SigningThread {
  #worker: Worker | undefined;
  #failed = false;
  #slots = 0;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve(signature: Signature): void; reject(error: Error): void }>();

  /** A signer for `privateKey`'s digests. */
  signerOf(privateKey: string): DigestSigner {
    const inline = new SigningKey(privateKey);
    const slot = this.#slots++;
    let handedOver = false;
    return (digest) => {
      const worker = this.#running();
      if (worker === undefined) return Promise.resolve(inline.sign(digest));
      if (!handedOver) {
        worker.postMessage({ kind: "key", slot, privateKey } satisfies SigningRequest);
        handedOver = true;
      }
      const id = this.#nextId++;
      return new Promise((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        worker.postMessage({ kind: "sign", id, slot, digest } satisfies SigningRequest);
      });
    };
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failed = true;
    await worker?.terminate();
  }

  #running(): Worker | undefined {
    if (this.#worker !== undefined || this.#failed) return this.#worker;
    const worker = new Worker(WORKER);
    worker.unref();
    worker.on("message", (answer: SigningAnswer) => {
      const waiting = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      if ("error" in answer) waiting?.reject(new Error(`signing failed: ${answer.error}`));
      else waiting?.resolve(Signature.from({ r: answer.r, s: answer.s, v: answer.v }));
    });
    const fail = (error: Error) => {
      this.#failed = true;
      this.#worker = undefined;
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the signing thread stopped (${code})`)));
    this.#worker = worker;
    return worker;
  }
}
