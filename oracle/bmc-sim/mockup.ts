import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The DMTF reference server the simulator's systems are shaped like (BSD-3, DMTF). */
export const MOCKUP_DIRECTORY = fileURLToPath(new URL("./mockup/public-rackmount1", import.meta.url));
/** The id of the one system in the mockup; each simulated system replaces it with its own. */
export const MOCKUP_SYSTEM_ID = "437XR1138R2";

/** A resource of the mockup: its raw text, and how to serve it. */
export interface MockupResource {
  text: string;
  contentType: string;
}

let cached: ReadonlyMap<string, MockupResource> | undefined;

/**
 * The mockup as a map from resource path (`/redfish/v1/Systems/...`, no trailing slash) to its
 * document. Read once per process: a fleet of hundreds of BMCs shares it.
 */
export function loadMockup(directory = MOCKUP_DIRECTORY): ReadonlyMap<string, MockupResource> {
  if (cached !== undefined && directory === MOCKUP_DIRECTORY) return cached;
  const resources = new Map<string, MockupResource>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      const resource = relative(directory, folder).split(sep).filter(Boolean).join("/");
      const url = resource === "" ? "/redfish/v1" : `/redfish/v1/${resource}`;
      if (entry.name === "index.json") {
        resources.set(url, { text: readFileSync(path, "utf8"), contentType: "application/json; charset=utf-8" });
      } else if (entry.name === "index.xml") {
        resources.set(url, { text: readFileSync(path, "utf8"), contentType: "application/xml; charset=utf-8" });
      }
    }
  };
  walk(directory);
  if (directory === MOCKUP_DIRECTORY) cached = resources;
  return resources;
}
