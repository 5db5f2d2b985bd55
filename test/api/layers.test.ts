import { readFile, readdir } from "node:fs/promises";
import { dirname, join, normalize, relative } from "node:path";

import { describe, expect, it } from "vitest";

import { PROJECTED_TABLES } from "../../api/indexer/schema.js";

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

  it("has no import cycles: each part depends on those below it", async () => {
    const files = await sourcesUnder("api");
    const imports = new Map<string, string[]>();
    for (const file of files) {
      const text = await readFile(join(ROOT, file), "utf8");
      const targets = [...text.matchAll(/from "(\.{1,2}\/[^"]+)\.js"/g)].map(([, target]) =>
        normalize(join(dirname(file), `${target ?? ""}.ts`)),
      );
      imports.set(
        file,
        targets.filter((target) => files.includes(target)),
      );
    }
    const cycles: string[] = [];
    const done = new Set<string>();
    const visit = (file: string, path: string[]): void => {
      if (path.includes(file)) {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      if (done.has(file)) return;
      for (const target of imports.get(file) ?? []) visit(target, [...path, file]);
      done.add(file);
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it("maps domain errors to HTTP in http/ alone: nothing else imports its problems", async () => {
    const offending: string[] = [];
    for (const file of await sourcesUnder("api")) {
      // The REST client reads problems as the API's clients do.
      if (file.startsWith("api/http/") || file === "api/client.ts") continue;
      const text = await readFile(join(ROOT, file), "utf8");
      if (/from "[./]*\/?http\/problem\.js"|from "\.\/problem\.js"/.test(text)) offending.push(file);
    }
    expect(offending).toEqual([]);
  });

  it("reads projected tables in readmodel/ alone (the indexer writes them)", async () => {
    const projected = PROJECTED_TABLES.join("|");
    const query = new RegExp(`\\b(FROM|JOIN|UPDATE|INTO) (${projected}|events|event_links)\\b|_SELECT\\b`);
    const offending: string[] = [];
    for (const file of await sourcesUnder("api")) {
      if (file.startsWith("api/readmodel/") || file.startsWith("api/indexer/")) continue;
      if (query.test(await readFile(join(ROOT, file), "utf8"))) offending.push(file);
    }
    expect(offending).toEqual([]);
  });
});
