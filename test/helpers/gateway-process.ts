import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";

const CLI = join(import.meta.dirname, "../../scripts/market.js");

/** `market gateway run` in its own process. */
export interface GatewayProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout(): string;
  stderr(): string;
  exit: Promise<number | null>;
}

/** Starts `market gateway run` and waits for it to say where it listens (or to exit). */
export function runGateway(config: string, ...flags: string[]): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [CLI, "gateway", "run", "--config", config, "--log-level", "warn", ...flags]);
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /gateway listening on (\S+)/.exec(out);
      if (match?.[1] !== undefined) {
        clearInterval(timer);
        resolve({ child, url: match[1], stdout: () => out, stderr: () => err, exit });
      }
    }, 20);
    void exit.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code}: ${err}`));
    });
  });
}

/** Ctrl-C, and the exit code. */
export async function stopGateway(running: Pick<GatewayProcess, "child" | "exit">): Promise<number | null> {
  running.child.kill("SIGINT");
  return running.exit;
}
