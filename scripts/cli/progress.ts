const BAR_WIDTH = 24;

/** Reports long work: a bar redrawn in place on a terminal, one line per step elsewhere (logs, CI). */
export interface ProgressBar {
  step(label: string, done: number, total: number): void;
  /** Work whose size is not known ahead: a running count. */
  count(label: string, done: number): void;
  /** Ends the bar's line. */
  finish(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr, enabled = true): ProgressBar {
  let drawn = false;
  return {
    step(label, done, total) {
      if (!enabled) return;
      if (!stream.isTTY) {
        stream.write(`[${done}/${total}] ${label}\n`);
        return;
      }
      const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
      const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
      stream.write(`\r\x1b[2K${bar} ${done}/${total} ${label}`);
      drawn = true;
    },
    count(label, done) {
      if (!enabled) return;
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${done.toLocaleString("en")} ${label}`);
        drawn = true;
      }
    },
    finish() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}
