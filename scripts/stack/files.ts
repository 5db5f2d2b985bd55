import { randomBytes } from "node:crypto";
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The data directory's layout. `secrets/` outlives every chain (the master secret, passwords,
 * agent keys); `state/` belongs to one chain (deployment, databases, the agents' checkpoints);
 * `logs/` has one file per part.
 */
export interface DataDir {
  root: string;
  secrets: string;
  state: string;
  logs: string;
  /** Where the state of the embedded chain's previous run is moved. */
  previousState: string;
}

export function dataDirAt(root: string): DataDir {
  return {
    root,
    secrets: join(root, "secrets"),
    state: join(root, "state"),
    logs: join(root, "logs"),
    previousState: join(root, "previous-state"),
  };
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates the folders; secrets are readable by this user only. */
export async function prepareDataDir(dir: DataDir): Promise<void> {
  await mkdir(dir.secrets, { recursive: true, mode: 0o700 });
  await mkdir(dir.state, { recursive: true });
  await mkdir(dir.logs, { recursive: true });
}

/**
 * Moves the state of an earlier run aside. The embedded chain lives in memory, so a new run is a
 * new chain; the old state would only be refused by the parts (or, worse, mixed in).
 */
export async function retireState(dir: DataDir): Promise<boolean> {
  if (!(await exists(dir.state))) return false;
  await rm(dir.previousState, { recursive: true, force: true });
  await rename(dir.state, dir.previousState);
  return true;
}

/** A random secret kept in `file` (mode 0600), made on first use. */
export async function secretFile(file: string, bytes = 32): Promise<{ file: string; value: string }> {
  if (await exists(file)) return { file, value: (await readFile(file, "utf8")).trim() };
  const value = randomBytes(bytes).toString("base64url");
  await writeFile(file, `${value}\n`, { mode: 0o600, flag: "wx" });
  return { file, value };
}

export async function writeJson(file: string, value: unknown, mode = 0o644): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`, { mode });
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, "utf8")) as T;
}
