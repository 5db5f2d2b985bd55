import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

import { errorBody, message } from "./errors.js";
import { EVENT_SERVICE, EventSubscriptions } from "./events.js";
import { asObject, etagOf, HttpProblem, notAllowed, parseTarget, readBody, send, type Reply } from "./http.js";
import { loadMockup, mockupActionTargets, MOCKUP_SYSTEM_ID } from "./mockup.js";
import { checkODataVersion, collection, PROTOCOL_FEATURES, readQuery, selectFrom } from "./protocol.js";

export type PowerState = "On" | "Off" | "PoweringOn" | "PoweringOff";

/** What the simulated machine has; the inventory a client reads is built from it. */
export interface Hardware {
  sockets: 1 | 2;
  coresPerSocket: number;
  memoryGiB: number;
  disksGB: number[];
  nicSpeedMbps: number;
  /** Draw when on, in watts; standby draw is fixed. */
  watts: number;
}

/** How strict and how slow the BMC is. */
export interface BmcBehaviour {
  /** Time a power transition takes; 0 switches at once. */
  powerTransitionMs: number;
  /** Time an InsertMedia task runs; above 0 the action answers 202 with a task monitor. */
  mediaTaskMs: number;
  /** The `Retry-After` the task monitor asks for, in seconds. */
  taskRetryAfterSeconds: number;
  /**
   * How the SessionService answers a login: `accepted`; `absent` (405, no sessions: clients use
   * Basic); or 401/403 to every login while Basic auth works, as sushy-tools' emulator and some
   * firmware do.
   */
  sessions: "accepted" | "absent" | 401 | 403;
  /** Idle seconds after which a session token stops working. */
  sessionTimeoutSeconds: number;
  /** Whether a PATCH without `If-Match` is refused with 428. */
  requireIfMatch: boolean;
  /** Where the virtual media collection hangs: under the System or under its Manager. */
  virtualMedia: "system" | "manager";
  /** Whether InsertMedia refuses the optional `Inserted` and `WriteProtected` (400), as SuperMicro X11/X12 do. */
  insertMediaImageOnly: boolean;
  /** The virtual CD's boot target: `UsbCd` on SuperMicro, which then lists no `Cd`. */
  cdBootTarget: "Cd" | "UsbCd";
  /** Whether the host's IPv4 shows on its EthernetInterfaces; many BMCs know it only from an OS agent. */
  reportsHostIpv4: boolean;
  /**
   * The EventService: `subscriptions` (POST creates one, DELETE removes it; power changes and
   * `SubmitTestEvent` are POSTed to subscribers), or `absent`, as on BMCs without one: no link from
   * the service root, 404 at its URI.
   */
  eventService: "subscriptions" | "absent";
}

/** Faults to inject; each can be changed while the BMC runs. */
export interface BmcFaults {
  /** Delay before every answer. */
  latencyMs?: number;
  /** The next n requests get a 503. */
  failNext?: number;
  /** Every request gets a 500: a BMC that is broken. */
  failAll?: boolean;
  /** The next n requests have their connection dropped without an answer. */
  dropNext?: number;
  /** Resets are accepted but the power state never changes. */
  stuckPower?: boolean;
  /**
   * The next `count` POSTs (logins aside) are carried out, then their answer is lost: a 500 in its place, the
   * connection dropped, or no answer at all (the client times out). A BMC that acted but whose
   * web server failed, for counting that a client does not send an action twice.
   */
  afterApplying?: { count: number; answer: 500 | 503 | "drop" | "hang" };
  /** Resources under the System answered 404 although linked, e.g. `Memory` or `Processors/CPU2`: broken links. */
  notFound?: string[];
  /** Properties left out of the System document, e.g. `MemorySummary`. */
  omitted?: string[];
}

export interface BmcOptions {
  /** Distinguishes the machine: its MAC and IP addresses derive from it. */
  index: number;
  systemId?: string;
  username: string;
  password: string;
  hardware?: Partial<Hardware>;
  behaviour?: Partial<BmcBehaviour>;
  initial?: { power?: "On" | "Off"; image?: string };
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  host?: string;
  port?: number;
}

/** A request as the BMC saw it, for tests to count. */
export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  /** `performance.now()` when the request arrived. */
  at: number;
  body?: unknown;
}

/** A boot of the machine: where it booted from and, from virtual media, which image. */
export interface Boot {
  target: string;
  image?: string;
}

interface Media {
  image: string | null;
  imageName: string | null;
  inserted: boolean;
  writeProtected: boolean;
  connectedVia: string;
  version: number;
}

interface Task {
  id: string;
  doneAt: number;
  startedAt: string;
}

const DEFAULT_HARDWARE: Hardware = {
  sockets: 2,
  coresPerSocket: 8,
  memoryGiB: 96,
  disksGB: [8000, 4000],
  nicSpeedMbps: 10_000,
  watts: 344,
};

const DEFAULT_BEHAVIOUR: BmcBehaviour = {
  powerTransitionMs: 0,
  mediaTaskMs: 0,
  taskRetryAfterSeconds: 1,
  sessions: "accepted",
  sessionTimeoutSeconds: 1800,
  requireIfMatch: false,
  virtualMedia: "system",
  insertMediaImageOnly: false,
  cdBootTarget: "Cd",
  reportsHostIpv4: true,
  eventService: "subscriptions",
};

const STANDBY_WATTS = 6;
/** The mockup's interfaces, numbered for this machine's MACs; the VLAN shares NIC 1's. */
const NIC_NUMBERS: Record<string, number> = { "12446A3B0411": 1, "12446A3B8890": 2, ToManager: 3, VLAN1: 1 };
const RESET_TYPES = [
  "On",
  "ForceOff",
  "GracefulShutdown",
  "GracefulRestart",
  "ForceRestart",
  "Nmi",
  "ForceOn",
  "PushPowerButton",
];
const BOOT_TARGETS = ["None", "Pxe", "Cd", "Usb", "Hdd", "BiosSetup", "Utilities", "Diags", "SDCard", "UefiTarget"];
const BOOT_ENABLED = ["Disabled", "Once", "Continuous"];
const BOOT_MODES = ["UEFI", "Legacy"];
const MEDIA_IDS = ["Floppy1", "CD1", "CD2"] as const;
const MEDIA_PROTOCOLS = /^(https?|nfs|cifs):\/\//;
const PUBLIC_PATHS = new Set(["/redfish", "/redfish/v1", "/redfish/v1/odata", "/redfish/v1/$metadata"]);
const SESSIONS = "/redfish/v1/SessionService/Sessions";
const TASK_MONITORS = "/redfish/v1/TaskService/TaskMonitors/";
const TASKS = "/redfish/v1/TaskService/Tasks/";
const MANAGER_MEDIA = "/redfish/v1/Managers/BMC/VirtualMedia";
const READ = ["GET", "HEAD"] as const;
const READ_PATCH = [...READ, "PATCH"] as const;
const POST_ONLY = ["POST"] as const;

/**
 * One simulated BMC managing one machine shaped like the DMTF reference server. It behaves as a
 * strict BMC does: it wants credentials, refuses stale ETags and values outside the allowable
 * lists, takes time to change power state, and can be told to misbehave.
 */
export class SimulatedBmc {
  readonly systemId: string;
  readonly username: string;
  readonly hardware: Hardware;
  readonly behaviour: BmcBehaviour;
  faults: BmcFaults = {};
  /** Every request answered (or dropped), in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Every boot of the machine, in order. */
  readonly boots: Boot[] = [];
  /** When each of `boots` happened, for the system's event log. */
  readonly #bootTimes: string[] = [];
  /** Called as each request arrives, before it is handled; tests use it to act at a precise point. */
  onRequest: ((request: { method: string; path: string; body: unknown }) => void) | undefined;

  readonly #password: string;
  readonly #index: number;
  readonly #server: Server;
  readonly #sessions = new Map<string, { id: string; lastUsed: number }>();
  readonly #tasks = new Map<string, Task>();
  readonly #media = new Map<string, Media>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #events = new EventSubscriptions();
  #power: PowerState;
  #boot = { target: "None", enabled: "Disabled", mode: "UEFI", uefiTarget: "/0x31/0x33/0x01/0x01" };
  #systemVersion = 1;
  #taskCount = 0;
  #url = "";

  constructor(readonly options: BmcOptions) {
    this.#index = options.index;
    this.systemId = options.systemId ?? `MM${String(options.index).padStart(4, "0")}`;
    this.username = options.username;
    this.#password = options.password;
    this.hardware = { ...DEFAULT_HARDWARE, ...options.hardware };
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
    this.#power = options.initial?.power ?? "Off";
    for (const id of MEDIA_IDS) this.#media.set(id, this.#initialMedia(id));
    const image = options.initial?.image;
    if (image !== undefined) this.#insert("CD1", image);
    const handler = (request: IncomingMessage, response: ServerResponse) => void this.#handle(request, response);
    this.#server = options.tls === undefined ? createHttpServer(handler) : createHttpsServer(options.tls, handler);
    this.#server.keepAliveTimeout = 30_000;
  }

  /** The BMC's base URL, e.g. `http://127.0.0.1:40123`, once listening. */
  get url(): string {
    return this.#url;
  }

  get powerState(): PowerState {
    return this.#power;
  }

  get bootOverride(): { target: string; enabled: string; mode: string } {
    const { target, enabled, mode } = this.#boot;
    return { target, enabled, mode };
  }

  /** The CD drive's state. */
  get cd(): { image: string | null; inserted: boolean } {
    const media = this.#requireMedia("CD1");
    return { image: media.image, inserted: media.inserted };
  }

  /** Live sessions, e.g. to check a client logged out. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Requests that change something (POST, PATCH, PUT, DELETE), as `METHOD path`. */
  mutations(): string[] {
    return this.requests.filter((r) => r.method !== "GET" && r.method !== "HEAD").map((r) => `${r.method} ${r.path}`);
  }

  /** Forgets every session, as a BMC reboot does; clients must log in again. */
  expireSessions(): void {
    this.#sessions.clear();
  }

  /** Puts the machine back in a given state, e.g. between test cases. */
  setState(state: { power?: "On" | "Off"; image?: string | null }): void {
    if (state.power !== undefined) this.#power = state.power;
    if (state.image === null) this.#eject("CD1");
    else if (state.image !== undefined) this.#insert("CD1", state.image);
    this.#systemVersion += 1;
  }

  async listen(): Promise<string> {
    const host = this.options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.options.port ?? 0, host, () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `${this.options.tls === undefined ? "http" : "https"}://${host}:${port}`;
    return this.#url;
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ HTTP

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const at = performance.now();
    const method = request.method ?? "GET";
    const { path, query } = parseTarget(request.url ?? "/");
    let body: unknown;
    const record = (status: number) =>
      this.requests.push({ method, path, status, at, ...(body === undefined ? {} : { body }) });
    try {
      body = await readBody(request);
      this.onRequest?.({ method, path, body });
      const { latencyMs = 0 } = this.faults;
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (this.#takeFault("dropNext")) {
        record(0);
        request.socket.destroy();
        return;
      }
      if (this.faults.failAll === true) throw new HttpProblem(500, [message("GeneralError")]);
      if (this.#takeFault("failNext")) {
        throw new HttpProblem(503, [message("ServiceTemporarilyUnavailable", ["1"])], { "Retry-After": "1" });
      }
      const reply = this.#route(method, path, query, request.headers, body);
      const lost = method === "POST" && path !== SESSIONS ? this.#takeAfterApplying() : undefined;
      if (lost === "drop" || lost === "hang") {
        record(0);
        // A hung answer leaves the socket open until the client gives up (or the BMC closes).
        if (lost === "drop") request.socket.destroy();
        return;
      }
      if (lost !== undefined) throw new HttpProblem(lost, [message("GeneralError")]);
      send(response, reply, method === "HEAD");
      record(reply.status);
    } catch (error) {
      const problem =
        error instanceof HttpProblem
          ? error
          : error instanceof SyntaxError
            ? new HttpProblem(400, [message("MalformedJSON")])
            : new HttpProblem(500, [message("GeneralError")]);
      send(response, {
        status: problem.status,
        body: errorBody(problem.messages, problem.summary),
        headers: problem.headers,
      });
      record(problem.status);
    }
  }

  #takeAfterApplying(): 500 | 503 | "drop" | "hang" | undefined {
    const fault = this.faults.afterApplying;
    if (fault === undefined || fault.count <= 0) return undefined;
    fault.count -= 1;
    return fault.answer;
  }

  #takeFault(kind: "dropNext" | "failNext"): boolean {
    const left = this.faults[kind] ?? 0;
    if (left <= 0) return false;
    this.faults[kind] = left - 1;
    return true;
  }

  #route(
    method: string,
    path: string,
    query: URLSearchParams,
    headers: IncomingMessage["headers"],
    body: unknown,
  ): Reply {
    checkODataVersion(headers);
    if (path === SESSIONS && method === "POST") return this.#login(body);
    if (!PUBLIC_PATHS.has(path)) this.#authenticate(headers);

    const allowed = this.#methodsOf(path);
    if (allowed === undefined) throw new HttpProblem(404, [message("ResourceNotFound", ["Resource", path])]);
    const allow = { Allow: allowed.join(", ") };
    if (!allowed.includes(method)) throw notAllowed(method, path, allowed);
    if (method === "GET" || method === "HEAD") {
      const selection = readQuery(query);
      const reply = selectFrom(this.#get(path), selection);
      return { ...reply, headers: { ...reply.headers, ...allow } };
    }

    const system = this.#systemPath;
    const mediaRoot = this.#mediaRoot;
    if (method === "DELETE" && path.startsWith(`${SESSIONS}/`)) return this.#logout(path.slice(SESSIONS.length + 1));
    if (method === "POST" && path === `${EVENT_SERVICE}/Subscriptions`) return this.#events.create(body);
    if (method === "DELETE" && path.startsWith(`${EVENT_SERVICE}/Subscriptions/`)) return this.#events.remove(path);
    if (path === `${EVENT_SERVICE}/Actions/EventService.SubmitTestEvent`) return this.#events.submitTestEvent(body);
    if (method === "POST" && path === `${system}/Actions/ComputerSystem.Reset`) return this.#reset(body);
    if (method === "PATCH" && path === system) {
      this.#checkIfMatch(headers, this.#systemEtag());
      return this.#patchSystem(body);
    }
    if (path.startsWith(`${mediaRoot}/`)) {
      const [id = "", action] = path.slice(mediaRoot.length + 1).split("/Actions/");
      const media = this.#requireMedia(id);
      if (action === "VirtualMedia.InsertMedia") return this.#insertAction(id, body);
      if (action === "VirtualMedia.EjectMedia") {
        this.#eject(id);
        return { status: 204 };
      }
      this.#checkIfMatch(headers, etagOf(`${id}:${media.version}`));
      return this.#patchMedia(id, body);
    }
    // The mockup's other actions (a Manager's reset, a certificate's renewal...) are listed but not simulated.
    throw new HttpProblem(400, [message("ActionNotSupported", [path.split("/").pop() ?? path])]);
  }

  get #systemPath(): string {
    return `/redfish/v1/Systems/${this.systemId}`;
  }

  get #mediaRoot(): string {
    return this.behaviour.virtualMedia === "system" ? `${this.#systemPath}/VirtualMedia` : MANAGER_MEDIA;
  }

  /** The methods the resource at `path` takes, as its `Allow` header says; `undefined` if there is none. */
  #methodsOf(path: string): readonly string[] | undefined {
    const system = this.#systemPath;
    const mediaRoot = this.#mediaRoot;
    if (this.faults.notFound?.some((broken) => path === `${system}/${broken}`) === true) return undefined;
    if (path === "/redfish" || path === mediaRoot) return READ;
    if (path === system) return READ_PATCH;
    if (path === `${system}/Actions/ComputerSystem.Reset`) return POST_ONLY;
    if (path.startsWith(`${mediaRoot}/`)) {
      // A drive, or one of its two actions; below a drive (its certificates) are the mockup's documents.
      const [id = "", action] = path.slice(mediaRoot.length + 1).split("/Actions/");
      if (this.#media.has(id) && action === undefined) return READ_PATCH;
      if (this.#media.has(id)) {
        return action === "VirtualMedia.InsertMedia" || action === "VirtualMedia.EjectMedia" ? POST_ONLY : undefined;
      }
    }
    // Virtual media hangs in one place only; the mockup's documents for the other are not served.
    const elsewhere = this.behaviour.virtualMedia === "system" ? MANAGER_MEDIA : `${system}/VirtualMedia`;
    if (path === elsewhere || path.startsWith(`${elsewhere}/`)) return undefined;
    if (path === SESSIONS) return this.behaviour.sessions === "absent" ? READ : [...READ, "POST"];
    if (path.startsWith(`${SESSIONS}/`))
      return this.#hasSession(path.slice(SESSIONS.length + 1)) ? [...READ, "DELETE"] : undefined;
    if (path === TASKS.slice(0, -1)) return READ;
    if (path.startsWith(TASKS) || path.startsWith(TASK_MONITORS)) {
      return this.#tasks.has(path.split("/").pop() ?? "") ? READ : undefined;
    }
    if (path === EVENT_SERVICE || path.startsWith(`${EVENT_SERVICE}/`)) {
      if (this.behaviour.eventService === "absent") return undefined;
      const events = this.#events.methodsOf(path);
      if (events !== undefined) return events.length === 0 ? undefined : events;
    }
    if (mockupActionTargets().has(this.#mockupPath(path))) return POST_ONLY;
    return this.#template(path) === undefined ? undefined : READ;
  }

  #hasSession(id: string): boolean {
    return [...this.#sessions.values()].some((session) => session.id === id);
  }

  // ------------------------------------------------------------------ auth

  #login(body: unknown): Reply {
    const { sessions } = this.behaviour;
    if (sessions === "absent") throw notAllowed("POST", SESSIONS, READ);
    if (sessions !== "accepted") {
      throw new HttpProblem(sessions, [message(sessions === 401 ? "NoValidSession" : "InsufficientPrivilege")]);
    }
    const { UserName, Password } = (body ?? {}) as { UserName?: unknown; Password?: unknown };
    if (typeof UserName !== "string" || typeof Password !== "string" || !this.#credentialsMatch(UserName, Password)) {
      throw new HttpProblem(401, [message("NoValidSession")]);
    }
    const id = randomBytes(8).toString("hex");
    const token = randomBytes(24).toString("base64url");
    this.#sessions.set(token, { id, lastUsed: Date.now() });
    const location = `${SESSIONS}/${id}`;
    return {
      status: 201,
      headers: { "X-Auth-Token": token, Location: location },
      body: this.#sessionResource(id),
    };
  }

  #logout(id: string): Reply {
    for (const [token, session] of this.#sessions) {
      if (session.id === id) {
        this.#sessions.delete(token);
        return { status: 204 };
      }
    }
    throw new HttpProblem(404, [message("ResourceNotFound", ["Session", id])]);
  }

  #authenticate(headers: IncomingMessage["headers"]): void {
    const token = headers["x-auth-token"];
    if (typeof token === "string") {
      const session = this.#sessions.get(token);
      const now = Date.now();
      if (session !== undefined && now - session.lastUsed <= this.behaviour.sessionTimeoutSeconds * 1000) {
        session.lastUsed = now;
        return;
      }
      this.#sessions.delete(token);
    } else {
      const [scheme, encoded] = (headers.authorization ?? "").split(" ");
      if (scheme === "Basic" && encoded !== undefined) {
        const decoded = Buffer.from(encoded, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon > 0 && this.#credentialsMatch(decoded.slice(0, colon), decoded.slice(colon + 1))) return;
      }
    }
    throw new HttpProblem(401, [message("NoValidSession")], { "WWW-Authenticate": 'Basic realm="Redfish"' });
  }

  #credentialsMatch(username: string, password: string): boolean {
    const digest = (value: string) => createHash("sha256").update(value).digest();
    return username === this.username && timingSafeEqual(digest(password), digest(this.#password));
  }

  #checkIfMatch(headers: IncomingMessage["headers"], current: string): void {
    const ifMatch = headers["if-match"];
    if (ifMatch === undefined) {
      if (this.behaviour.requireIfMatch) {
        throw new HttpProblem(428, [message("GeneralError")], {}, "This resource is changed only with If-Match.");
      }
      return;
    }
    const strip = (tag: string) => tag.trim().replace(/^W\//, "");
    const accepted = ifMatch.split(",").map(strip);
    if (!accepted.includes("*") && !accepted.includes(strip(current))) {
      throw new HttpProblem(412, [message("GeneralError")], {}, "The ETag in If-Match is not the resource's.");
    }
  }

  // ------------------------------------------------------------------ power and boot

  #reset(body: unknown): Reply {
    const action = "ComputerSystem.Reset";
    const { ResetType, ...rest } = (body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new HttpProblem(400, [message("ActionParameterNotSupported", [unknown, action])]);
    if (ResetType === undefined) throw new HttpProblem(400, [message("ActionParameterMissing", [action, "ResetType"])]);
    if (typeof ResetType !== "string" || !RESET_TYPES.includes(ResetType)) {
      const value = String(ResetType);
      throw new HttpProblem(400, [message("ActionParameterValueFormatError", [value, "ResetType", action])]);
    }
    if (this.faults.stuckPower === true) return { status: 204 };
    const on = this.#power === "On" || this.#power === "PoweringOn";
    switch (ResetType) {
      case "On":
      case "ForceOn":
        if (!on) this.#transition("PoweringOn", "On");
        break;
      case "ForceOff":
      case "GracefulShutdown":
        if (on) this.#transition("PoweringOff", "Off");
        break;
      case "PushPowerButton":
        if (on) this.#transition("PoweringOff", "Off");
        else this.#transition("PoweringOn", "On");
        break;
      case "ForceRestart":
      case "GracefulRestart":
        if (on) this.#transition("PoweringOn", "On");
        break;
      default: // Nmi: the host's business
        break;
    }
    return { status: 204 };
  }

  #transition(via: PowerState, to: "On" | "Off"): void {
    this.#systemVersion += 1;
    const finish = () => {
      this.#power = to;
      this.#systemVersion += 1;
      if (to === "On") this.#booted();
      this.#events.publish(this.#systemPath, message("PropertyValueModified", ["PowerState", to]));
    };
    if (this.behaviour.powerTransitionMs <= 0) return finish();
    this.#power = via;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      finish();
    }, this.behaviour.powerTransitionMs);
    this.#timers.add(timer);
  }

  /** The machine came up: it boots from the override target, which a one-time override then forgets. */
  #booted(): void {
    const { target, enabled } = this.#boot;
    const from = enabled === "Disabled" || target === "None" ? "Hdd" : target;
    const cd = this.#requireMedia("CD1");
    this.boots.push(
      from === this.behaviour.cdBootTarget && cd.inserted && cd.image !== null
        ? { target: from, image: cd.image }
        : { target: from },
    );
    this.#bootTimes.push(new Date().toISOString().replace(/\.\d+Z$/, "Z"));
    if (enabled === "Once") this.#boot = { ...this.#boot, enabled: "Disabled", target: "None" };
  }

  #patchSystem(body: unknown): Reply {
    const fields = asObject(body, "");
    for (const key of Object.keys(fields)) {
      if (key === "Boot") continue;
      const known = this.#systemDocument()[key] !== undefined;
      throw new HttpProblem(400, [
        known ? message("PropertyNotWritable", [key], [`#/${key}`]) : message("PropertyUnknown", [key], [`#/${key}`]),
      ]);
    }
    const boot = asObject(fields.Boot ?? {}, "Boot");
    const next = { ...this.#boot };
    const allowed: Record<string, readonly string[] | undefined> = {
      BootSourceOverrideTarget: this.#bootTargets(),
      BootSourceOverrideEnabled: BOOT_ENABLED,
      BootSourceOverrideMode: BOOT_MODES,
      UefiTargetBootSourceOverride: undefined,
    };
    for (const [key, value] of Object.entries(boot)) {
      const pointer = `#/Boot/${key}`;
      if (!(key in allowed)) throw new HttpProblem(400, [message("PropertyUnknown", [key], [pointer])]);
      if (typeof value !== "string") {
        throw new HttpProblem(400, [message("PropertyValueTypeError", [JSON.stringify(value), key], [pointer])]);
      }
      const list = allowed[key];
      if (list !== undefined && !list.includes(value)) {
        throw new HttpProblem(400, [message("PropertyValueNotInList", [value, key], [pointer])]);
      }
      if (key === "BootSourceOverrideTarget") next.target = value;
      else if (key === "BootSourceOverrideEnabled") next.enabled = value;
      else if (key === "BootSourceOverrideMode") next.mode = value;
      else next.uefiTarget = value;
    }
    this.#boot = next;
    this.#systemVersion += 1;
    return { status: 200, body: this.#systemDocument(), headers: { ETag: this.#systemEtag() } };
  }

  // ------------------------------------------------------------------ virtual media

  #insertAction(id: string, body: unknown): Reply {
    const action = "VirtualMedia.InsertMedia";
    const fields = asObject(body, "");
    const allowed = new Set([
      "Image",
      "Inserted",
      "WriteProtected",
      "TransferProtocolType",
      "TransferMethod",
      "UserName",
      "Password",
    ]);
    if (this.behaviour.insertMediaImageOnly) {
      allowed.delete("Inserted");
      allowed.delete("WriteProtected");
    }
    for (const key of Object.keys(fields)) {
      if (!allowed.has(key)) throw new HttpProblem(400, [message("ActionParameterNotSupported", [key, action])]);
    }
    const { Image } = fields;
    if (Image === undefined) throw new HttpProblem(400, [message("ActionParameterMissing", [action, "Image"])]);
    if (typeof Image !== "string" || !MEDIA_PROTOCOLS.test(Image)) {
      throw new HttpProblem(400, [message("ActionParameterValueFormatError", [String(Image), "Image", action])]);
    }
    if (this.#requireMedia(id).inserted) throw new HttpProblem(409, [message("ResourceInUse")]);
    this.#insert(id, Image, fields.WriteProtected !== false);
    if (this.behaviour.mediaTaskMs <= 0) return { status: 204 };
    const task = this.#startTask(this.behaviour.mediaTaskMs);
    return {
      status: 202,
      headers: { Location: `${TASK_MONITORS}${task.id}`, "Retry-After": String(this.behaviour.taskRetryAfterSeconds) },
      body: this.#taskDocument(task),
    };
  }

  #patchMedia(id: string, body: unknown): Reply {
    const fields = asObject(body, "");
    for (const key of Object.keys(fields)) {
      if (!["Image", "Inserted", "WriteProtected"].includes(key)) {
        throw new HttpProblem(400, [message("PropertyUnknown", [key], [`#/${key}`])]);
      }
    }
    const { Image, Inserted, WriteProtected } = fields;
    if (Image === null || Inserted === false) this.#eject(id);
    else if (typeof Image === "string") {
      if (!MEDIA_PROTOCOLS.test(Image)) {
        throw new HttpProblem(400, [message("PropertyValueTypeError", [Image, "Image"], ["#/Image"])]);
      }
      this.#insert(id, Image, WriteProtected !== false);
    }
    return { status: 200, body: this.#mediaDocument(id) };
  }

  #insert(id: string, image: string, writeProtected = true): void {
    const media = this.#requireMedia(id);
    Object.assign(media, {
      image,
      imageName: image.split("/").pop() ?? image,
      inserted: true,
      writeProtected,
      connectedVia: "URI",
      version: media.version + 1,
    });
  }

  #eject(id: string): void {
    const media = this.#requireMedia(id);
    Object.assign(media, {
      image: null,
      imageName: null,
      inserted: false,
      connectedVia: "NotConnected",
      version: media.version + 1,
    });
  }

  #requireMedia(id: string): Media {
    const media = this.#media.get(id);
    if (media === undefined) throw new HttpProblem(404, [message("ResourceNotFound", ["VirtualMedia", id])]);
    return media;
  }

  #initialMedia(id: string): Media {
    const template = JSON.parse(this.#template(`/redfish/v1/Systems/${MOCKUP_SYSTEM_ID}/VirtualMedia/${id}`) ?? "{}");
    // The CD drive starts empty unless told otherwise; the others keep the mockup's state.
    const inserted = id !== "CD1" && template.Inserted === true;
    return {
      image: inserted ? template.Image : null,
      imageName: inserted ? template.ImageName : null,
      inserted,
      writeProtected: template.WriteProtected === true,
      connectedVia: inserted ? template.ConnectedVia : "NotConnected",
      version: 1,
    };
  }

  // ------------------------------------------------------------------ tasks

  #startTask(durationMs: number): Task {
    this.#taskCount += 1;
    const task = {
      id: String(1000 + this.#taskCount),
      doneAt: Date.now() + durationMs,
      startedAt: new Date().toISOString(),
    };
    this.#tasks.set(task.id, task);
    return task;
  }

  #taskDocument(task: Task): object {
    const done = Date.now() >= task.doneAt;
    return {
      "@odata.type": "#Task.v1_7_4.Task",
      "@odata.id": `${TASKS}${task.id}`,
      Id: task.id,
      Name: `Task ${task.id}`,
      TaskState: done ? "Completed" : "Running",
      TaskStatus: "OK",
      PercentComplete: done ? 100 : 50,
      StartTime: task.startedAt,
      ...(done ? { EndTime: new Date(task.doneAt).toISOString() } : {}),
      TaskMonitor: `${TASK_MONITORS}${task.id}`,
      Messages: [],
    };
  }

  // ------------------------------------------------------------------ documents

  /** The document at `path`, which `#methodsOf` has found to exist. */
  #get(path: string): Reply {
    const system = this.#systemPath;
    const mediaRoot = this.#mediaRoot;
    if (path === "/redfish") return { status: 200, body: { v1: "/redfish/v1/" } };
    if (path === TASKS.slice(0, -1)) {
      const ids = [...this.#tasks.keys()].map((id) => `${TASKS}${id}`);
      return { status: 200, body: collection("#TaskCollection.TaskCollection", path, "Task Collection", ids) };
    }
    const task = this.#tasks.get(path.split("/").pop() ?? "");
    if (task !== undefined && (path.startsWith(TASK_MONITORS) || path.startsWith(TASKS))) {
      const running = Date.now() < task.doneAt;
      if (path.startsWith(TASK_MONITORS) && running) {
        return {
          status: 202,
          body: this.#taskDocument(task),
          headers: { "Retry-After": String(this.behaviour.taskRetryAfterSeconds) },
        };
      }
      return { status: 200, body: this.#taskDocument(task) };
    }
    if (path === system) {
      const omitted = new Set(this.faults.omitted);
      const document = Object.fromEntries(Object.entries(this.#systemDocument()).filter(([key]) => !omitted.has(key)));
      return { status: 200, body: document, headers: { ETag: this.#systemEtag() } };
    }
    if (path === mediaRoot) {
      const ids = MEDIA_IDS.map((id) => `${mediaRoot}/${id}`);
      const type = "#VirtualMediaCollection.VirtualMediaCollection";
      return { status: 200, body: collection(type, mediaRoot, "Virtual Media Services", ids) };
    }
    const media = path.startsWith(`${mediaRoot}/`) ? this.#media.get(path.slice(mediaRoot.length + 1)) : undefined;
    if (media !== undefined) {
      const id = path.slice(mediaRoot.length + 1);
      return { status: 200, body: this.#mediaDocument(id), headers: { ETag: etagOf(`${id}:${media.version}`) } };
    }
    if (path === SESSIONS) {
      const ids = [...this.#sessions.values()].map((session) => `${SESSIONS}/${session.id}`);
      return { status: 200, body: collection("#SessionCollection.SessionCollection", path, "Session Collection", ids) };
    }
    if (path.startsWith(`${SESSIONS}/`))
      return { status: 200, body: this.#sessionResource(path.slice(SESSIONS.length + 1)) };
    const events = path.startsWith(`${EVENT_SERVICE}/`) ? this.#events.get(path) : undefined;
    if (events !== undefined) return events;
    const text = this.#template(path);
    if (text === undefined) throw new HttpProblem(404, [message("ResourceNotFound", ["Resource", path])]);
    if (path === "/redfish/v1/$metadata")
      return { status: 200, body: text, headers: { "Content-Type": "application/xml" } };
    return { status: 200, body: this.#overlay(path, system, JSON.parse(text)) };
  }

  /** The mockup document behind `path`, with this BMC's system id in place of the mockup's. */
  #template(path: string): string | undefined {
    const text = loadMockup().get(this.#mockupPath(path))?.text.replaceAll(MOCKUP_SYSTEM_ID, this.systemId);
    // Under the Manager, the mockup's media (and the links to them) move there from the System.
    return this.behaviour.virtualMedia === "manager"
      ? text?.replaceAll(`${this.#systemPath}/VirtualMedia`, MANAGER_MEDIA)
      : text;
  }

  /** Where the mockup holds the document for `path`. */
  #mockupPath(path: string): string {
    const mockupSystem = `/redfish/v1/Systems/${MOCKUP_SYSTEM_ID}`;
    const moved = this.behaviour.virtualMedia === "manager" && path.startsWith(MANAGER_MEDIA);
    return moved
      ? path.replace(MANAGER_MEDIA, `${mockupSystem}/VirtualMedia`)
      : path.replace(this.#systemPath, mockupSystem);
  }

  /** The live state of this machine laid over the mockup's static documents. */
  #overlay(path: string, system: string, doc: Record<string, unknown>): Record<string, unknown> {
    const { hardware } = this;
    const watts = this.#watts();
    switch (path) {
      case "/redfish/v1": {
        // What the simulator really takes, not what the mockup's service did, as a strict client looks.
        const { EventService: events, ...rest } = doc;
        return {
          ...rest,
          ...(this.behaviour.eventService === "absent" ? {} : { EventService: events }),
          ProtocolFeaturesSupported: PROTOCOL_FEATURES,
        };
      }
      case "/redfish/v1/odata": {
        const services = doc.value as { url: string }[];
        const absent = this.behaviour.eventService === "absent" ? EVENT_SERVICE : undefined;
        return { ...doc, value: services.filter((service) => service.url !== absent) };
      }
      case EVENT_SERVICE:
        return this.#events.service(doc);
      case "/redfish/v1/AccountService/OutboundConnections/1": {
        // The mockup's connection names a session of its own; this BMC's sessions are only those opened.
        const { Links: _session, ...rest } = doc;
        return rest;
      }
      case "/redfish/v1/ServiceConditions":
        // The mockup leaves out `Id`, which ServiceConditions (a Resource) requires.
        return { Id: "ServiceConditions", ...doc };
      case "/redfish/v1/Managers/BMC":
        return this.behaviour.virtualMedia === "manager"
          ? { ...doc, VirtualMedia: { "@odata.id": "/redfish/v1/Managers/BMC/VirtualMedia" } }
          : doc;
      case `${system}/Processors`:
        if (hardware.sockets === 2) return doc;
        return {
          ...doc,
          "Members@odata.count": 2,
          Members: [{ "@odata.id": `${system}/Processors/CPU1` }, { "@odata.id": `${system}/Processors/FPGA1` }],
        };
      case `${system}/Processors/CPU1`:
      case `${system}/Processors/CPU2`:
        return { ...doc, TotalCores: hardware.coresPerSocket, TotalThreads: hardware.coresPerSocket * 2 };
      case `${system}/SimpleStorage/1`:
        return {
          ...doc,
          Devices: hardware.disksGB.map((gb, i) => ({
            Name: `SATA Bay ${i + 1}`,
            Manufacturer: "Contoso",
            Model: "3000GT8",
            CapacityBytes: gb * 1e9,
            Status: { State: "Enabled", Health: "OK" },
          })),
        };
      case `${system}/LogServices/Log1/Entries`: {
        // The system's event log shows its boots, as a real BMC's SEL does, in place of the mockup's samples.
        const entries = this.boots.map((boot, i) => ({
          "@odata.id": `${path}/${i + 1}`,
          "@odata.type": "#LogEntry.v1_21_0.LogEntry",
          Id: String(i + 1),
          Name: `Log Entry ${i + 1}`,
          EntryType: "Event",
          Severity: "OK",
          Created: this.#bootTimes[i],
          Message: `System booted from ${boot.target}${boot.image === undefined ? "" : ` (image ${boot.image})`}`,
          MessageId: "Metalmarket.1.0.SystemBooted",
          MessageArgs: boot.image === undefined ? [boot.target] : [boot.target, boot.image],
        }));
        const { "@odata.nextLink": _paged, ...rest } = doc;
        return { ...rest, "Members@odata.count": entries.length, Members: entries };
      }
      case "/redfish/v1/Chassis/1U":
        return { ...doc, PowerState: this.#settledPower() };
      case "/redfish/v1/Chassis/1U/Power": {
        const controls = (doc.PowerControl as Record<string, unknown>[]).map((c) => ({
          ...c,
          PowerConsumedWatts: watts,
        }));
        return { ...doc, PowerControl: controls };
      }
      case "/redfish/v1/Chassis/1U/EnvironmentMetrics":
        return { ...doc, PowerWatts: { ...(doc.PowerWatts as object), Reading: watts } };
      case "/redfish/v1/Chassis/1U/Sensors/TotalPower":
        return { ...doc, Reading: watts };
      default:
        break;
    }
    // Some of the mockup's collections miscount their members; a client sizes its reads by the count.
    if (Array.isArray(doc.Members) && doc["Members@odata.nextLink"] === undefined) {
      return { ...doc, "Members@odata.count": doc.Members.length };
    }
    if (path.startsWith(`${system}/Memory/DIMM`)) {
      return { ...doc, CapacityMiB: Math.round((hardware.memoryGiB * 1024) / 4) };
    }
    if (path.startsWith(`${system}/EthernetInterfaces/`) && typeof doc.MACAddress === "string") {
      const nic = NIC_NUMBERS[String(doc.Id)] ?? 1;
      const mac = this.#mac(nic);
      const ipv4 = !this.behaviour.reportsHostIpv4
        ? []
        : nic === 1
          ? [{ Address: this.ipv4, SubnetMask: "255.255.0.0", AddressOrigin: "Static", Gateway: "10.20.0.1" }]
          : doc.IPv4Addresses;
      return {
        ...doc,
        MACAddress: mac,
        PermanentMACAddress: mac,
        SpeedMbps: hardware.nicSpeedMbps,
        IPv4Addresses: ipv4,
      };
    }
    return doc;
  }

  /** The host's address on the data network, where a tenant reaches the machine. */
  get ipv4(): string {
    return `10.20.${Math.floor(this.#index / 250)}.${(this.#index % 250) + 2}`;
  }

  #mac(nic: number): string {
    const bytes = [0x02, 0x4d, 0x4d, (this.#index >> 8) & 0xff, this.#index & 0xff, nic];
    return bytes.map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
  }

  #watts(): number {
    if (this.#power === "Off") return STANDBY_WATTS;
    // A steady wobble, so that samples differ without making runs differ.
    return Math.round(this.hardware.watts * (0.9 + 0.1 * Math.sin(Date.now() / 10_000)));
  }

  #settledPower(): "On" | "Off" {
    return this.#power === "On" || this.#power === "PoweringOff" ? "On" : "Off";
  }

  #systemDocument(): Record<string, unknown> {
    const text = this.#template(`/redfish/v1/Systems/${this.systemId}`);
    const doc = JSON.parse(text ?? "{}") as Record<string, unknown>;
    const { hardware } = this;
    const boot = {
      BootSourceOverrideEnabled: this.#boot.enabled,
      BootSourceOverrideTarget: this.#boot.target,
      "BootSourceOverrideTarget@Redfish.AllowableValues": this.#bootTargets(),
      BootSourceOverrideMode: this.#boot.mode,
      UefiTargetBootSourceOverride: this.#boot.uefiTarget,
    };
    const { VirtualMedia: media, ...rest } = doc;
    return {
      ...rest,
      ...(this.behaviour.virtualMedia === "system" ? { VirtualMedia: media } : {}),
      PowerState: this.#power,
      HostName: `node${this.#index}`,
      Boot: boot,
      ProcessorSummary: {
        ...(doc.ProcessorSummary as object),
        Count: hardware.sockets,
        CoreCount: hardware.sockets * hardware.coresPerSocket,
        LogicalProcessorCount: hardware.sockets * hardware.coresPerSocket * 2,
      },
      MemorySummary: { ...(doc.MemorySummary as object), TotalSystemMemoryGiB: hardware.memoryGiB },
      "@odata.etag": this.#systemEtag(),
    };
  }

  #bootTargets(): string[] {
    return this.behaviour.cdBootTarget === "Cd"
      ? BOOT_TARGETS
      : BOOT_TARGETS.map((target) => (target === "Cd" ? this.behaviour.cdBootTarget : target));
  }

  #systemEtag(): string {
    return etagOf(`${this.systemId}:${this.#systemVersion}`);
  }

  #mediaDocument(id: string): Record<string, unknown> {
    const media = this.#requireMedia(id);
    const self = `${this.#mediaRoot}/${id}`;
    const template = JSON.parse(this.#template(self) ?? "{}");
    return {
      ...template,
      "@odata.id": self,
      Image: media.image,
      ImageName: media.imageName,
      Inserted: media.inserted,
      WriteProtected: media.writeProtected,
      ConnectedVia: media.connectedVia,
      TransferMethod: "Stream",
      Actions: {
        "#VirtualMedia.InsertMedia": { target: `${self}/Actions/VirtualMedia.InsertMedia` },
        "#VirtualMedia.EjectMedia": { target: `${self}/Actions/VirtualMedia.EjectMedia` },
      },
      "@odata.etag": etagOf(`${id}:${media.version}`),
    };
  }

  #sessionResource(id: string): object {
    return {
      "@odata.type": "#Session.v1_7_0.Session",
      "@odata.id": `${SESSIONS}/${id}`,
      Id: id,
      Name: "User Session",
      UserName: this.username,
    };
  }
}
