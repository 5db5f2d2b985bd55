import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Records that carry secrets (the salts of wallet bids and sealed reserves), kept in a local JSON
 * file that only its owner can read: losing one means a bid or reserve can never be revealed.
 */
export async function loadSecretRecords<T>(file: string): Promise<T[]> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Adds `record` to the file, or replaces the one `same` matches; the file is made 0600. */
export async function saveSecretRecord<T>(file: string, record: T, same: (a: T, b: T) => boolean): Promise<void> {
  const others = (await loadSecretRecords<T>(file)).filter((other) => !same(other, record));
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify([...others, record], null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
