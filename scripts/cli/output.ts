/** One column of a table: its header and how a row shows in it. */
export type Column<T> = readonly [header: string, value: (row: T) => unknown];

/** A plain-text table with aligned columns, for people; `--json` gives programs the raw answer. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[], empty = "(none)"): string {
  if (rows.length === 0) return empty;
  const cells = rows.map((row) => columns.map(([, value]) => cell(value(row))));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((line) => line[i]?.length ?? 0)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(columns.map(([header]) => header.toUpperCase())), ...cells.map(line)].join("\n");
}

/** `label: value` lines for one record. */
export function record(fields: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${cell(value)}`).join("\n");
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** JSON for scripts; bigints (credit units, gas) as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** Prints `value` as JSON for scripts. */
export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

/** Prints the answer as JSON for scripts, or as `human` renders it. */
export function print<T>(answer: T, json: boolean, human: (answer: T) => string): void {
  process.stdout.write(`${json ? toJson(answer) : human(answer)}\n`);
}

/** Warnings go to stderr, one a line, so that `--json` output on stdout stays clean. */
export function warn(warnings: readonly string[]): void {
  for (const warning of warnings) process.stderr.write(`market: warning: ${warning}\n`);
}
