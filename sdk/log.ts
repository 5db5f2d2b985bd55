/** A structured log line's fields. Never put credentials here; `redact` masks known names anyway. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

type Level = keyof Logger;
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEYS = /pass(word)?|secret|token|authorization|private|credential/i;

/** JSON lines on stderr, one per event, at `level` and above. */
export function createLogger(
  level: Level = "info",
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit =
    (at: Level) =>
    (message: string, fields: LogFields = {}) => {
      if (LEVELS[at] < LEVELS[level]) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level: at, message, ...redact(fields) })}\n`);
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** A logger that drops everything, for tests and libraries used quietly. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** `fields` with any value under a secret-sounding key masked, at any depth. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEYS.test(key)) out[key] = "[redacted]";
    else if (value instanceof Error) out[key] = value.message;
    else if (typeof value === "object" && value !== null && !Array.isArray(value))
      out[key] = redact(value as LogFields);
    else out[key] = typeof value === "bigint" ? value.toString() : value;
  }
  return out;
}
