import { pino, type Logger as PinoLogger } from "pino";

/** A structured log line's fields. Never put credentials here; `redact` masks known names anyway. */
export type LogFields = Record<string, unknown>;

/** What the gateway and the agent log through: a message and its fields. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** The pino logger underneath, for the gateway's HTTP access log; absent when nothing is logged. */
  readonly pino?: PinoLogger;
}

type Level = "debug" | "info" | "warn" | "error";
const SECRET_KEYS = /pass(word)?|secret|token|authorization|cookie|private|credential/i;
/** Where credentials sit in the access log's requests and responses. */
const ACCESS_LOG_SECRETS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
];

/**
 * JSON lines (pino) on stderr, one per event, at `level` and above: `time`, `level` by name,
 * `message` and the fields, with secret-sounding fields masked at any depth, whatever logs them
 * (the HTTP access log's headers included).
 */
export function createLogger(level: Level = "info", write?: (line: string) => void): Logger {
  const destination = write === undefined ? pino.destination({ fd: 2, sync: true }) : { write };
  const logger = pino(
    {
      level,
      base: undefined,
      messageKey: "message",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (fields) => redact(fields) },
      // What the access log serialises from a request or response (after `formatters.log`).
      redact: { paths: ACCESS_LOG_SECRETS, censor: "[redacted]" },
    },
    destination,
  );
  const emit =
    (at: Level) =>
    (message: string, fields: LogFields = {}) => {
      logger[at](fields, message);
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), pino: logger };
}

/** A logger that drops everything, for tests and libraries used quietly. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** `fields` with any value under a secret-sounding key masked, at any depth. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEYS.test(key)) out[key] = "[redacted]";
    else if (value instanceof Error) out[key] = value.message;
    else if (isPlainObject(value)) out[key] = redact(value);
    else out[key] = typeof value === "bigint" ? value.toString() : value;
  }
  return out;
}

/** Only plain records are walked: a request or a socket is left to its serialiser. */
function isPlainObject(value: unknown): value is LogFields {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
