import { readFile } from "node:fs/promises";
import { join } from "node:path";

import * as prettier from "prettier";
import { describe, expect, it } from "vitest";

import { apiReference } from "../../api/docs.js";

const API_DOC = join(import.meta.dirname, "../../docs/api.md");

describe("the API reference", () => {
  it("is docs/api.md as generated from the routes (run `npm run docs` after changing one)", async () => {
    const options = (await prettier.resolveConfig(API_DOC)) ?? {};
    const generated = await prettier.format(apiReference(), { ...options, filepath: API_DOC });
    expect(await readFile(API_DOC, "utf8")).toBe(generated);
  });

  it("documents every operation with who may call it", () => {
    const reference = apiReference();
    expect(reference).toContain("### `POST /timeslots/{sliceId}/request`");
    expect(reference).toContain("| `duration` | integer | yes | minutes, a whole number of the offer's slices |");
    expect(reference.match(/^### `/gm)?.length).toBeGreaterThan(50);
    expect(reference.match(/^Who: /gm)?.length).toBe(reference.match(/^### `/gm)?.length);
  });
});
