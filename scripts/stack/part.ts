import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

import { STOP_WITH_PARENT_ENV } from "../cli/options.js";

const CLI = join(import.meta.dirname, "../market.js");
/** Parts run from the project's root, where Hardhat finds its configuration. */
const PROJECT_ROOT = join(import.meta.dirname, "../..");
/** How long a part may take to say it is ready, and to stop once asked. */
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** The lines of a part's stderr kept to explain why it died. */
const KEPT_ERROR_LINES = 20;

/** One process of the stack: a `market` command running as a child, its output in a log file. */
export interface Part {
  readonly name: string;
  readonly pid: number;
  /** Everything the part printed on stdout so far. */
  stdout(): string;
  /** Resolves with the exit code when the part exits, for whatever reason. */
  readonly exited: Promise<number | null>;
  /** Asks the part to stop (SIGTERM), and kills it if it has not within the stop timeout. */
  stop(): Promise<number | null>;
}

/** A part stopped before it was ready, or exited when it should not have. */
export class PartFailedError extends Error {
  constructor(
    readonly part: string,
    detail: string,
    readonly logFile: string,
  ) {
    super(`${part} ${detail}; its log: ${logFile}`);
    this.name = "PartFailedError";
  }
}

/**
 * Starts `market <args>` and waits until its stdout matches `ready`. The part's stdout and stderr
 * go to `<logDir>/<name>.log`. It runs in a process group of its own, so a Ctrl-C in the terminal
 * reaches only the supervisor, which stops the parts in order; and it stops by itself when the
 * supervisor dies (its stdin closes).
 */
export async function startPart(name: string, args: string[], ready: RegExp, logDir: string): Promise<Part> {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(process.execPath, [CLI, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
    cwd: PROJECT_ROOT,
    env: { ...process.env, [STOP_WITH_PARENT_ENV]: "1" },
  });
  let out = "";
  const errors: string[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    log.write(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    log.write(chunk);
    errors.push(...chunk.toString().split("\n").filter(Boolean));
    errors.splice(0, Math.max(0, errors.length - KEPT_ERROR_LINES));
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => {
      log.end();
      resolve(code ?? (signal === null ? null : 128));
    });
    child.once("error", () => resolve(null));
  });
  const why = () => errors.filter((line) => !line.startsWith("{")).at(-1) ?? errors.at(-1) ?? "no message";

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new PartFailedError(name, `was not ready within ${READY_TIMEOUT_MS / 1000} s`, logFile));
    }, READY_TIMEOUT_MS);
    const check = () => {
      if (!ready.test(out)) return;
      clearTimeout(timer);
      child.stdout.off("data", check);
      resolve();
    };
    child.stdout.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new PartFailedError(name, `exited with ${code} before it was ready: ${why()}`, logFile));
    });
  });

  return {
    name,
    pid: child.pid ?? -1,
    stdout: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
