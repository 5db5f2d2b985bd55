import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";

import { createProvider, latestBlockTime, readDeployment, revealWindow, roundAt } from "../../sdk/index.js";
import { waitFor } from "./wait.js";

const CLI = join(import.meta.dirname, "../../scripts/market.js");
/** A whole stack (chain, deployment, BMCs, gateway, agents) starts in seconds; a demo takes longer. */
const START_TIMEOUT_MS = 90_000;

/** `market start` running as a user runs it, in its own process. */
export interface RunningStack {
  child: ChildProcessWithoutNullStreams;
  /** The summary it printed once everything was ready. */
  summary: string;
  gatewayUrl: string;
  rpcUrl: string;
  output(): { stdout: string; stderr: string };
  /** The exit code, or the signal that killed it. */
  exit: Promise<number | NodeJS.Signals>;
  /** Ctrl-C, and the exit code (or the signal that killed it). */
  stop(): Promise<number | NodeJS.Signals>;
}

/**
 * Runs `market start` with `args`, on free ports, and waits for its summary. Rejects with its
 * stderr when it exits first.
 */
export async function runStack(args: string[], env: Record<string, string> = {}): Promise<RunningStack> {
  const child = spawn(process.execPath, [CLI, "start", ...args], {
    env: { ...process.env, MARKET_RPC_PORT: "0", MARKET_PORT: "0", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let exited: number | NodeJS.Signals | undefined;
  const exit = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => {
      // Node gives one of the two: the code of a normal exit, or the signal that ended it.
      exited = code ?? (signal as NodeJS.Signals);
      resolve(exited);
    }),
  );
  const summary = await waitFor(
    "market start's summary",
    async () => {
      if (exited !== undefined) throw new Error(`market start exited with ${exited}: ${stderr}`);
      return stdout.includes("Press Ctrl-C to stop.") ? stdout : undefined;
    },
    START_TIMEOUT_MS,
  );
  const field = (label: string) => {
    const value = new RegExp(`^\\s+${label}\\s+(\\S+)`, "m").exec(summary)?.[1];
    if (value === undefined) throw new Error(`no ${label} in the summary:\n${summary}`);
    return value;
  };
  return {
    child,
    summary,
    gatewayUrl: field("portal"),
    rpcUrl: field("chain"),
    output: () => ({ stdout, stderr }),
    exit,
    async stop() {
      child.kill("SIGINT");
      return exit;
    },
  };
}

/**
 * Makes sure the auction round open on a local chain takes bids for at least `marginSeconds`
 * more: otherwise moves the chain into the next round. A bid sent in a round's last seconds is
 * refused (rightly), which a test must not leave to the clock.
 */
export async function roomToCommit(rpcUrl: string, deploymentsDir: string, marginSeconds = 60): Promise<void> {
  const provider = createProvider(rpcUrl);
  try {
    const { schedule } = await readDeployment(Number((await provider.getNetwork()).chainId), deploymentsDir);
    const now = await latestBlockTime(provider);
    const closesAt = revealWindow(schedule, roundAt(schedule, now)).opensAt;
    if (closesAt - now >= marginSeconds) return;
    await provider.send("evm_increaseTime", [closesAt - now]);
    await provider.send("evm_mine", []);
  } finally {
    provider.destroy();
  }
}
