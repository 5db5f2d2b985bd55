import { openApiMarkdown, type OpenApiDocument } from "./http/openapi-markdown.js";
import { API_INFO, openApiDocument } from "./http/openapi.js";
import { apiRoutes } from "./routes/index.js";

/** `docs/api.md`: the API reference, from the same route declarations the gateway serves. */
export function apiReference(): string {
  return `${openApiMarkdown(openApiDocument(apiRoutes, API_INFO) as unknown as OpenApiDocument)}\n`;
}
