/** `npm run docs`: writes docs/api.md from the gateway's OpenAPI document. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { apiReference } from "../../api/docs.js";

const target = join(import.meta.dirname, "../../docs/api.md");
await writeFile(target, apiReference());
process.stdout.write(`wrote ${target}\n`);
