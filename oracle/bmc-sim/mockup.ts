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
      // A message registry itself is served too, where its MessageRegistryFile's `Location` says.
      const served =
        entry.name === "index.json" || entry.name === "index.xml"
          ? url
          : resource === "Registries" && entry.name.endsWith(".json")
            ? `${url}/${entry.name}`
            : undefined;
      if (served === undefined) continue;
      const contentType = `application/${entry.name.endsWith(".xml") ? "xml" : "json"}; charset=utf-8`;
      resources.set(served, { text: readFileSync(path, "utf8"), contentType });
    }
  };
  walk(directory);
  if (directory === MOCKUP_DIRECTORY) cached = resources;
  return resources;
}

let targets: ReadonlySet<string> | undefined;

/** Every action target the mockup's documents advertise (with the mockup's system id): they take POST only. */
export function mockupActionTargets(): ReadonlySet<string> {
  if (targets !== undefined) return targets;
  const found = new Set<string>();
  for (const { text } of loadMockup().values()) {
    // `target` is the property of an action, and of nothing else the mockup holds.
    for (const [, target] of text.matchAll(/"target":\s*"([^"]+)"/g)) if (target !== undefined) found.add(target);
  }
  targets = found;
  return found;
}
