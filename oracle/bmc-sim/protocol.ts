import type { IncomingHttpHeaders } from "node:http";

import { message } from "./errors.js";
import { HttpProblem, type Reply } from "./http.js";

/**
 * The query parameters the simulator takes, as its service root states them: `$select` only. A
 * client that reads this before sending `$expand` or `$filter` is right not to send them.
 */
export const PROTOCOL_FEATURES = {
  ExpandQuery: { ExpandAll: false, Levels: false, Links: false, NoLinks: false },
  SelectQuery: true,
  FilterQuery: false,
  OnlyMemberQuery: false,
  ExcerptQuery: false,
  TopSkipQuery: false,
} as const;

export const ODATA_VERSION = "4.0";

/** DSP0266: a service rejects an OData version it does not support with 412. */
export function checkODataVersion(headers: IncomingHttpHeaders): void {
  const version = headers["odata-version"]?.toString().trim();
  if (version === undefined || version === ODATA_VERSION) return;
  throw new HttpProblem(
    412,
    [message("GeneralError")],
    {},
    `OData-Version ${version} is not supported; this service supports OData-Version ${ODATA_VERSION} only.`,
  );
}

/** The properties `$select` asks for, each as its path (`Status/Health` is `["Status", "Health"]`). */
export type Selection = string[][];

/**
 * The query of a GET. DSP0266: a `$` parameter the service does not support answers 501; other
 * unknown parameters are ignored.
 */
export function readQuery(query: URLSearchParams): Selection | undefined {
  let selection: Selection | undefined;
  for (const [name, value] of query) {
    if (!name.startsWith("$")) continue;
    if (name !== "$select") {
      throw new HttpProblem(
        501,
        [message("QueryNotSupported")],
        {},
        `The query parameter ${name} is not supported; see ProtocolFeaturesSupported in the service root.`,
      );
    }
    const paths = value.split(",").map((path) => path.trim().split("/"));
    if (paths.some((path) => path.some((part) => part === ""))) {
      throw new HttpProblem(400, [message("QueryParameterValueFormatError", [value, name])]);
    }
    selection = [...(selection ?? []), ...paths];
  }
  return selection;
}

/** `reply` with only the selected properties (and every `@odata.` annotation) of its JSON body. */
export function selectFrom(reply: Reply, selection: Selection | undefined): Reply {
  if (selection === undefined || reply.status !== 200 || !isObject(reply.body)) return reply;
  return { ...reply, body: select(reply.body, selection) };
}

function select(doc: Record<string, unknown>, selection: Selection): Record<string, unknown> {
  const picked = Object.fromEntries(Object.entries(doc).filter(([key]) => key.startsWith("@odata.")));
  const byProperty = new Map<string, string[][]>();
  for (const [property = "", ...inner] of selection)
    byProperty.set(property, [...(byProperty.get(property) ?? []), inner]);
  for (const [property, inner] of byProperty) {
    const value = doc[property];
    if (value === undefined) continue;
    if (inner.some((path) => path.length === 0) || !isObject(value)) {
      picked[property] = value;
      // The property's own annotations, e.g. `Members@odata.count`, come with it.
      for (const [key, annotation] of Object.entries(doc)) if (key.startsWith(`${property}@`)) picked[key] = annotation;
    } else picked[property] = select(value, inner);
  }
  return picked;
}

/** A resource collection's document. */
export function collection(type: string, path: string, name: string, members: string[]): Record<string, unknown> {
  return {
    "@odata.type": type,
    "@odata.id": path,
    Name: name,
    "Members@odata.count": members.length,
    Members: members.map((member) => ({ "@odata.id": member })),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
