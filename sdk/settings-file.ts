import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/**
 * Reads a JSON settings file (the gateway's, an agent's, the stack's) and resolves every path it
 * names against the file's own folder, so a file means the same whatever directory it is run
 * from. `paths` are dotted field names; `*` walks an array or every entry of a record. A value
 * with a URL scheme (`postgres://`, `sqlite:`) is not a path and stays as it is. Node only.
 */
export async function readSettingsFile(file: string, paths: readonly string[]): Promise<Record<string, unknown>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read the settings file ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`the settings file ${file} must hold a JSON object`);
  }
  const base = dirname(resolve(file));
  for (const path of paths) resolveAt(raw as Record<string, unknown>, path.split("."), base);
  return raw as Record<string, unknown>;
}

function resolveAt(holder: Record<string, unknown> | unknown[], path: readonly string[], base: string): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const keys = head === "*" ? Object.keys(holder) : [head];
  for (const key of keys) {
    const container = holder as Record<string, unknown>;
    const value = container[key];
    if (rest.length === 0) {
      if (typeof value === "string" && !/^[a-z][a-z0-9+.-]*:/i.test(value)) container[key] = resolve(base, value);
    } else if (typeof value === "object" && value !== null) {
      resolveAt(value as Record<string, unknown>, rest, base);
    }
  }
}
