import { readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";

import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");

async function sourcesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, folder), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

describe("the gateway's reach", () => {
  it("imports nothing of the agent's: it never reaches a BMC, and BMC credentials never reach it", async () => {
    const offending: string[] = [];
    for (const file of await sourcesUnder("api")) {
      const text = await readFile(join(ROOT, file), "utf8");
      for (const [, target] of text.matchAll(/from "([^"]+)"/g)) {
        if (target?.includes("/oracle/")) offending.push(`${file} imports ${target}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
