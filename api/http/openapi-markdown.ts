/** An OpenAPI document as far as its Markdown rendering reads it. */
interface Schema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  format?: string;
}
interface Parameter {
  name: string;
  in: string;
  required: boolean;
  description?: string;
  schema: Schema;
}
interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  "x-roles": string | string[];
  parameters: Parameter[];
  requestBody?: { content: { "application/json": { schema: Schema } } };
  responses: Record<string, { description: string }>;
}
export interface OpenApiDocument {
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
}

/**
 * The API reference in Markdown, rendered from the gateway's OpenAPI document (`docs/api.md` is
 * this, written by `npm run docs`): one section per tag, one entry per operation, with who may
 * call it, its parameters and its body's fields.
 */
export function openApiMarkdown(document: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const tag = operation.tags[0] ?? "other";
      const entries = byTag.get(tag) ?? [];
      entries.push(operationMarkdown(method, path, operation));
      byTag.set(tag, entries);
    }
  }
  const tags = [...byTag.keys()];
  return [
    `# ${document.info.title} API (${document.info.version})`,
    "",
    "<!-- Generated from the gateway's OpenAPI document by `npm run docs`; do not edit by hand. -->",
    "",
    document.info.description,
    "",
    "Every request but `/auth/login`, `/healthz` and `/readyz` carries `Authorization: Bearer <API key or " +
      "session token>` (or the portal's session cookie). Errors are `application/problem+json` with `field` " +
      "naming the input at fault and `revert` naming the contract's custom error. The live document is at " +
      "`/openapi.json`, and an interactive page at `/docs`.",
    "",
    ...tags.map((tag) => `- [${tag}](#${tag})`),
    "",
    ...tags.flatMap((tag) => [`## ${tag}`, "", ...(byTag.get(tag) ?? [])]),
  ].join("\n");
}

function operationMarkdown(method: string, path: string, operation: Operation): string {
  const roles = operation["x-roles"];
  const who = Array.isArray(roles) ? roles.join(", ") : roles === "user" ? "any signed-in user" : roles;
  const lines = [`### \`${method.toUpperCase()} ${path}\``, "", operation.summary + ".", ""];
  if (operation.description !== undefined) lines.push(operation.description, "");
  lines.push(`Who: ${who}. Answers: ${Object.keys(operation.responses).filter((s) => s !== "default")[0]}.`, "");
  const parameters = operation.parameters.filter((p) => p.in !== "header");
  if (parameters.length > 0) {
    lines.push("| parameter | in | type | required | meaning |", "| --- | --- | --- | --- | --- |");
    for (const p of parameters) {
      lines.push(
        `| \`${p.name}\` | ${p.in} | ${typeOf(p.schema)} | ${p.required ? "yes" : "no"} | ${cell(p.description ?? p.schema.description)} |`,
      );
    }
    lines.push("");
  }
  const body = operation.requestBody?.content["application/json"].schema;
  if (body?.properties !== undefined) {
    lines.push("| body field | type | required | meaning |", "| --- | --- | --- | --- |");
    for (const [name, field] of Object.entries(body.properties)) {
      const required = (body.required ?? []).includes(name);
      lines.push(`| \`${name}\` | ${typeOf(field)} | ${required ? "yes" : "no"} | ${cell(field.description)} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

function typeOf(schema: Schema): string {
  if (schema.enum !== undefined) return schema.enum.map((value) => `\`${String(value)}\``).join(" \\| ");
  if (schema.anyOf !== undefined) return [...new Set(schema.anyOf.map(typeOf))].join(" or ");
  if (schema.type === "array") return `${schema.items === undefined ? "value" : typeOf(schema.items)}[]`;
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : (schema.type ?? "value");
  return schema.format === undefined ? type : `${type} (${schema.format})`;
}

function cell(text: string | undefined): string {
  return text === undefined ? "" : text.replaceAll("|", "\\|").replaceAll("\n", " ");
}
