import type { ZodTypeAny } from "zod";
import { zodToJsonSchema } from "zod-to-json-schema";

import type { Route } from "./route.js";

type JsonSchema = Record<string, unknown>;

/** The gateway API's name and version, as its OpenAPI document states them. */
export const API_INFO = { title: "Metalmarket gateway", version: "1.0.0" } as const;

function schemaOf(type: ZodTypeAny, io: "input" | "output"): JsonSchema {
  const schema = zodToJsonSchema(type, { $refStrategy: "none", target: "jsonSchema2019-09", pipeStrategy: io });
  delete (schema as { $schema?: string }).$schema;
  return schema as JsonSchema;
}

const PROBLEM: JsonSchema = {
  type: "object",
  properties: {
    type: { type: "string", format: "uri" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    field: { type: "string", description: "The first field at fault, e.g. `body.duration`." },
    errors: {
      type: "array",
      items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } },
    },
    revert: { type: "object", description: "The contract's custom error, when the chain refused." },
  },
  required: ["type", "title", "status"],
};

/** The OpenAPI 3.1 document of `routes`, from the same zod schemas that validate requests. */
export function openApiDocument(routes: readonly Route[], info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const parameters: unknown[] = [];
    for (const [where, type] of [
      ["path", r.params],
      ["query", r.query],
    ] as const) {
      if (type === undefined) continue;
      const schema = schemaOf(type, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === "path" || (schema.required ?? []).includes(name),
          ...(typeof property.description === "string" ? { description: property.description } : {}),
          schema: property,
        });
      }
    }
    if (r.method === "post") {
      parameters.push({
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description: "A retried request with the same key and body is answered from the first, never sent twice.",
        schema: { type: "string", maxLength: 255 },
      });
    }
    const content: Record<string, unknown> = { "application/json": { schema: schemaOf(r.response, "output") } };
    for (const type of r.alsoProduces ?? []) content[type] = { schema: { type: "string" } };
    paths[path] ??= {};
    paths[path][r.method] = {
      operationId: `${r.method}${path.replace(/[{}]/g, "").replace(/(^|\/|-)(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
      summary: r.summary,
      ...(r.description === undefined ? {} : { description: r.description }),
      tags: [r.tag],
      security: r.access === "public" ? [] : [{ apiKey: [] }, { session: [] }],
      "x-roles": r.access,
      parameters,
      ...(r.body === undefined
        ? {}
        : { requestBody: { required: true, content: { "application/json": { schema: schemaOf(r.body, "input") } } } }),
      responses: {
        [String(r.status ?? 200)]: { description: "Success", content },
        default: { description: "A problem", content: { "application/problem+json": { schema: PROBLEM } } },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      ...info,
      description:
        "Metalmarket's REST gateway. Credits are decimal strings of credits (6 decimals); prices are credits per " +
        "hour; times are ISO 8601 or unix seconds as stated per field; durations of time-slice requests are minutes.",
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key `mm_<id>_<secret>`." },
        session: { type: "apiKey", in: "cookie", name: "mm_session", description: "A login session." },
      },
    },
  };
}
