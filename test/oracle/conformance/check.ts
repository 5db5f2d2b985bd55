import { z } from "zod";

/** One broken rule, at one URL. */
export interface Violation {
  url: string;
  rule: string;
  detail: string;
}

export interface ServiceUnderTest {
  /** The service's origin, e.g. `http://127.0.0.1:40123`. */
  url: string;
  username: string;
  password: string;
  /** Links a fault makes answer 404 on purpose; they are expected broken, and only they. */
  brokenLinks?: readonly string[];
}

/** What a crawl found: the broken rules and every resource it read. */
export interface Report {
  violations: Violation[];
  visited: string[];
}

/** URIs DSP0266 says a service answers without authentication. */
const PUBLIC = ["/redfish", "/redfish/v1", "/redfish/v1/odata", "/redfish/v1/$metadata"];
/** `#Namespace.vX_Y_Z.Type`; collections are unversioned (`#FooCollection.FooCollection`). */
const VERSIONED_TYPE = /^#[A-Z][A-Za-z0-9]*\.v\d+_\d+_\d+\.[A-Z][A-Za-z0-9]*$/;
const COLLECTION_TYPE = /^#([A-Z][A-Za-z0-9]*Collection)\.\1$/;
const JSON_TYPE = /^application\/json(;\s*charset=utf-8)?$/i;
/** `Registry.Major.Minor.Errata.Key` (the errata may be left out). */
const MESSAGE_ID = /^([A-Za-z]+\.\d+\.\d+)(\.\d+)?\.[A-Za-z]+$/;

const link = z.object({ "@odata.id": z.string() });
const message = z.object({
  MessageId: z.string().regex(MESSAGE_ID),
  Message: z.string(),
  MessageArgs: z.array(z.string()).optional(),
  Severity: z.string().optional(),
});
type RedfishMessage = z.infer<typeof message>;
/** A message registry file, as its `Location` serves it. */
const registry = z.object({
  RegistryPrefix: z.string(),
  RegistryVersion: z.string(),
  Messages: z.record(
    z.object({ Message: z.string(), Severity: z.string().optional(), NumberOfArgs: z.number().int().optional() }),
  ),
});
type Registry = z.infer<typeof registry>;
const errorFormat = z.object({
  error: z.object({
    code: z.string().regex(MESSAGE_ID),
    message: z.string().min(1),
    "@Message.ExtendedInfo": z.array(message).min(1),
  }),
});
const resource = z.object({ "@odata.id": z.string(), "@odata.type": z.string() }).passthrough();
const collection = z.object({
  Name: z.string(),
  Members: z.array(link),
  "Members@odata.count": z.number().int(),
  "Members@odata.nextLink": z.string().optional(),
});
const serviceDocument = z.object({
  "@odata.context": z.literal("/redfish/v1/$metadata"),
  value: z.array(z.object({ name: z.string(), kind: z.string(), url: z.string() })).min(1),
});
const serviceRoot = z.object({
  RedfishVersion: z.string().regex(/^\d+\.\d+\.\d+$/),
  UUID: z.string().uuid(),
  Links: z.object({ Sessions: link }),
  ProtocolFeaturesSupported: z.object({}).passthrough(),
});
const registryFile = z.object({ Id: z.string(), Location: z.array(z.object({ Uri: z.string().optional() })) });

type Json = Record<string, unknown>;
type Answer = { status: number; headers: Headers; text: string; json: unknown };

/**
 * Crawls a Redfish service from `/redfish/v1`, following every `@odata.id` (and next links, action
 * infos and registry files), and checks what DSP0266 says a client may rely on.
 */
export async function checkService(service: ServiceUnderTest): Promise<Report> {
  const violations: Violation[] = [];
  const flag = (url: string, rule: string, detail: string) => violations.push({ url, rule, detail });
  const basic = `Basic ${Buffer.from(`${service.username}:${service.password}`).toString("base64")}`;
  const request = async (path: string, init: RequestInit & { auth?: boolean } = {}): Promise<Answer> => {
    const { auth = true, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (auth) headers.set("Authorization", basic);
    const answer = await fetch(`${service.url}${path}`, { ...rest, headers });
    const text = await answer.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: answer.status, headers: answer.headers, text, json };
  };
  const sent: { url: string; info: RedfishMessage }[] = [];
  const expectError = (path: string, answer: Answer, status: number, what: string) => {
    if (answer.status !== status) flag(path, `status-${status}`, `${what} answered ${answer.status}`);
    const parsed = errorFormat.safeParse(answer.json);
    if (!parsed.success) flag(path, "error-format", `${what}: ${issues(parsed.error)}`);
    for (const info of parsed.data?.error["@Message.ExtendedInfo"] ?? []) sent.push({ url: path, info });
    checkProtocolHeaders(path, answer, flag);
  };

  await checkEntryPoints(request, flag, expectError);

  const broken = new Set(service.brokenLinks ?? []);
  const documents = new Map<string, Json>();
  const queue = ["/redfish/v1"];
  const seen = new Set(queue);
  const referrers = new Map<string, string>();
  const fragments: { from: string; link: string }[] = [];
  const actionTargets: { from: string; target: string }[] = [];
  const registryUris: { from: string; uri: string }[] = [];
  const allowedOf = new Map<string, string[]>();

  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const answer = await request(path);
    if (broken.has(path)) {
      if (answer.status !== 404) flag(path, "fault-broken-link", `expected 404 from the fault, got ${answer.status}`);
      else expectError(path, answer, 404, "a broken link");
      continue;
    }
    if (answer.status !== 200) {
      flag(path, "link-resolves", `linked from ${referrers.get(path) ?? "?"}, answered ${answer.status}`);
      continue;
    }
    checkProtocolHeaders(path, answer, flag);
    const doc = answer.json as Json;
    documents.set(path, doc);
    checkResource(path, doc, flag);
    const allow = allowOf(answer);
    allowedOf.set(path, allow);
    if (!allow.includes("GET")) flag(path, "allow-header", `Allow is "${answer.headers.get("allow") ?? ""}"`);
    const etag = answer.headers.get("etag");
    if (allow.includes("PATCH") && etag === null) flag(path, "etag", "takes PATCH but its GET carries no ETag");
    if (etag !== null && doc["@odata.etag"] !== undefined && doc["@odata.etag"] !== etag)
      flag(path, "etag", `@odata.etag ${String(doc["@odata.etag"])} is not the ETag header ${etag}`);
    if (!PUBLIC.includes(path)) {
      // Every resource but the public ones answers 401 without credentials, and says Basic works.
      const refused = await request(path, { auth: false });
      expectError(path, refused, 401, "a GET without credentials");
      if (!/^Basic\b/i.test(refused.headers.get("www-authenticate") ?? ""))
        flag(path, "auth", "a 401 without WWW-Authenticate: Basic");
    }

    for (const found of linksIn(doc)) {
      const [target = "", fragment] = found.split("#");
      if (fragment !== undefined) fragments.push({ from: path, link: found });
      // A link may point at another service (a PDU's outlet, say): not this crawl's to follow.
      if (target !== "" && target.startsWith("/") && !seen.has(strip(target))) {
        seen.add(strip(target));
        referrers.set(strip(target), path);
        queue.push(strip(target));
      }
    }
    for (const target of actionTargetsIn(doc)) actionTargets.push({ from: path, target });
    const registry = registryFile.safeParse(doc);
    if (registry.success)
      for (const { Uri } of registry.data.Location)
        if (Uri?.startsWith("/") === true) registryUris.push({ from: path, uri: Uri });
  }

  for (const { from, link: found } of fragments) {
    const [base = "", pointer = ""] = found.split("#");
    const target = resolvePointer(documents.get(strip(base)), pointer);
    if (target === undefined) flag(from, "fragment-resolves", `${found} points at nothing`);
    else if (target["@odata.id"] !== found) flag(from, "fragment-resolves", `${found} holds ${target["@odata.id"]}`);
  }
  for (const { from, target } of actionTargets) {
    const answer = await request(target);
    expectError(target, answer, 405, `a GET of an action of ${from}`);
    if (!allowOf(answer).includes("POST")) flag(target, "allow-header", "an action's 405 does not Allow POST");
  }
  const registries: Registry[] = [];
  for (const { from, uri } of registryUris) {
    const answer = await request(uri);
    const parsed = registry.safeParse(answer.json);
    if (answer.status !== 200) flag(uri, "link-resolves", `the registry file of ${from} answered ${answer.status}`);
    else if (!parsed.success) flag(uri, "message-registry", issues(parsed.error));
    else registries.push(parsed.data);
  }
  await checkQueries(documents, request, flag, expectError);
  for (const { url, info } of sent) checkMessage(url, info, registries, flag);
  return { violations, visited: [...documents.keys()] };
}

type Request = (path: string, init?: RequestInit & { auth?: boolean }) => Promise<Answer>;
type Flag = (url: string, rule: string, detail: string) => void;
type ExpectError = (path: string, answer: Answer, status: number, what: string) => void;

async function checkEntryPoints(request: Request, flag: Flag, expectError: ExpectError): Promise<void> {
  const redfish = await request("/redfish", { auth: false });
  if (redfish.status !== 200 || JSON.stringify(redfish.json) !== JSON.stringify({ v1: "/redfish/v1/" }))
    flag("/redfish", "version-document", `answered ${redfish.status} ${redfish.text}`);
  for (const path of ["/redfish/v1", "/redfish/v1/"]) {
    const root = await request(path, { auth: false });
    if (root.status !== 200) flag(path, "public", `the service root answered ${root.status} without credentials`);
    const parsed = serviceRoot.safeParse(root.json);
    if (!parsed.success) flag(path, "service-root", issues(parsed.error));
  }

  const odata = await request("/redfish/v1/odata", { auth: false });
  checkProtocolHeaders("/redfish/v1/odata", odata, flag);
  const document = serviceDocument.safeParse(odata.json);
  if (odata.status !== 200 || !document.success)
    flag("/redfish/v1/odata", "service-document", `${odata.status}: ${document.error ? issues(document.error) : ""}`);
  for (const { url } of document.data?.value ?? []) {
    const answer = await request(strip(url));
    if (answer.status !== 200) flag(url, "service-document", `listed in /redfish/v1/odata, answered ${answer.status}`);
  }

  const metadata = await request("/redfish/v1/$metadata", { auth: false });
  if (metadata.status !== 200 || !/^application\/xml/i.test(metadata.headers.get("content-type") ?? ""))
    flag("/redfish/v1/$metadata", "metadata", `${metadata.status} ${metadata.headers.get("content-type")}`);
  if (!/<edmx:Edmx[^>]*Version="4.0"/.test(metadata.text))
    flag("/redfish/v1/$metadata", "metadata", "is not an OData 4.0 CSDL document");

  expectError("/redfish/v1/NoSuchResource", await request("/redfish/v1/NoSuchResource"), 404, "an unknown URI");
  const refused = await request("/redfish/v1/Systems", { method: "DELETE" });
  expectError("/redfish/v1/Systems", refused, 405, "a DELETE of a collection");
  if (!allowOf(refused).includes("GET")) flag("/redfish/v1/Systems", "allow-header", "a 405 carries no Allow");
  const version = await request("/redfish/v1/Systems", { headers: { "OData-Version": "4.01" } });
  expectError("/redfish/v1/Systems", version, 412, "OData-Version 4.01");
}

function checkProtocolHeaders(path: string, answer: Answer, flag: Flag): void {
  if (answer.headers.get("odata-version") !== "4.0")
    flag(path, "odata-version-header", `OData-Version is ${answer.headers.get("odata-version")}`);
  const type = answer.headers.get("content-type") ?? "";
  if (answer.text !== "" && !JSON_TYPE.test(type)) flag(path, "content-type", `Content-Type is "${type}"`);
}

function checkResource(path: string, doc: Json, flag: Flag): void {
  const parsed = resource.safeParse(doc);
  if (!parsed.success) return flag(path, "odata-annotations", issues(parsed.error));
  const { "@odata.id": id, "@odata.type": type } = parsed.data;
  if (strip(id) !== path) flag(path, "odata-id", `@odata.id is ${id}`);
  const context = doc["@odata.context"];
  if (context !== undefined && !String(context).startsWith("/redfish/v1/$metadata#"))
    flag(path, "odata-context", `@odata.context is ${String(context)}`);
  if (COLLECTION_TYPE.test(type)) {
    const members = collection.safeParse(doc);
    if (!members.success) return flag(path, "collection", issues(members.error));
    const { Members, "Members@odata.count": count, "Members@odata.nextLink": next } = members.data;
    if (next === undefined ? count !== Members.length : count < Members.length)
      flag(path, "collection-count", `Members@odata.count is ${count} for ${Members.length} members`);
    return;
  }
  if (!VERSIONED_TYPE.test(type)) flag(path, "odata-type", `@odata.type is ${type}`);
  for (const required of ["Id", "Name"])
    if (typeof doc[required] !== "string") flag(path, "required-property", `no ${required}`);
}

/**
 * A message a service sends must be the one its published registry defines, so that a client can
 * look it up: the same text with its arguments filled in, the same severity.
 */
function checkMessage(url: string, info: RedfishMessage, registries: Registry[], flag: Flag): void {
  const [, prefix, version, key = ""] = /^([A-Za-z]+)\.(\d+\.\d+)(?:\.\d+)?\.([A-Za-z]+)$/.exec(info.MessageId) ?? [];
  const found = registries.find((r) => r.RegistryPrefix === prefix && r.RegistryVersion.startsWith(`${version}.`));
  const defined = found?.Messages[key];
  if (defined === undefined) return flag(url, "message-registry", `${info.MessageId} is in no published registry`);
  const args = info.MessageArgs ?? [];
  const text = defined.Message.replace(/%(\d+)/g, (_, n: string) => args[Number(n) - 1] ?? "");
  if (info.Message !== text) flag(url, "message-registry", `${info.MessageId}: "${info.Message}", defined "${text}"`);
  if (info.Severity !== undefined && info.Severity !== defined.Severity)
    flag(url, "message-registry", `${info.MessageId} is ${info.Severity}, defined ${defined.Severity}`);
  if (args.length !== (defined.NumberOfArgs ?? 0))
    flag(url, "message-registry", `${info.MessageId} has ${args.length} arguments, defined ${defined.NumberOfArgs}`);
}

/**
 * Query parameters: what `ProtocolFeaturesSupported` says works must work; an unsupported `$`
 * parameter answers 501 (DSP0266, Query parameters).
 */
async function checkQueries(
  documents: Map<string, Json>,
  request: Request,
  flag: Flag,
  expectError: ExpectError,
): Promise<void> {
  const features = (documents.get("/redfish/v1")?.ProtocolFeaturesSupported ?? {}) as Json;
  const path = "/redfish/v1/Systems";
  if (features.SelectQuery === true) {
    const answer = await request(`${path}?$select=Name`);
    const keys = Object.keys((answer.json ?? {}) as Json).filter((key) => !key.startsWith("@odata."));
    if (answer.status !== 200 || keys.join() !== "Name")
      flag(`${path}?$select=Name`, "select-query", `answered ${answer.status} with ${keys.join(", ")}`);
  }
  const unsupported: [boolean, string][] = [
    [features.SelectQuery !== true, "$select=Name"],
    [features.FilterQuery !== true, "$filter=Id%20eq%20'x'"],
    [(features.ExpandQuery as Json | undefined)?.ExpandAll !== true, "$expand=*"],
    [features.TopSkipQuery !== true, "$top=1"],
    [true, "$nosuchparameter=1"],
  ];
  for (const [refused, query] of unsupported)
    if (refused) expectError(`${path}?${query}`, await request(`${path}?${query}`), 501, `unsupported ${query}`);
}

/** Every link a document holds: `@odata.id`s below the top, next links and action infos. */
function linksIn(doc: Json): string[] {
  const found: string[] = [];
  const walk = (value: unknown, top: boolean) => {
    if (Array.isArray(value)) return value.forEach((item) => walk(item, false));
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      const isLink = (key === "@odata.id" && !top) || key.endsWith("@odata.nextLink") || key === "@Redfish.ActionInfo";
      if (isLink && typeof inner === "string") found.push(inner);
      else walk(inner, false);
    }
  };
  walk(doc, true);
  return found;
}

function actionTargetsIn(doc: Json): string[] {
  const targets: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === "Actions" && typeof inner === "object" && inner !== null) {
        for (const [name, action] of Object.entries(inner))
          if (name.startsWith("#")) targets.push(String((action as Json).target));
      } else walk(inner);
    }
  };
  walk(doc);
  return targets;
}

function resolvePointer(doc: Json | undefined, pointer: string): Json | undefined {
  let value: unknown = doc;
  for (const part of pointer.split("/").slice(1)) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Json)[part.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return typeof value === "object" && value !== null ? (value as Json) : undefined;
}

function allowOf(answer: Answer): string[] {
  return (answer.headers.get("allow") ?? "").split(",").map((method) => method.trim().toUpperCase());
}

function strip(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

function issues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
}
