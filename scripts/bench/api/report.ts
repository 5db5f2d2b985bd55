import type { LoadFigures } from "./load.js";
import type { WriteFigures } from "./writes.js";

/** What the gateway must reach over a read model of at least a million events. */
export const TARGETS = {
  auditP99Ms_c16: 10,
  timeslotsP99Ms_c64: 50,
  /** Gateway writes per second over direct SDK writes, bookings and bid commits each. */
  writeRatio: 0.95,
};

export interface WritePair {
  direct: WriteFigures;
  gateway: WriteFigures;
  writeRatio: number;
}

// Three decimals, and the target checked on them: 0.947 is not 0.95.
export const ratio = (gatewayFigure: number, direct: number) => Number((gatewayFigure / direct).toFixed(3));

export function pair(direct: WriteFigures, gateway: WriteFigures): WritePair {
  return { direct, gateway, writeRatio: ratio(gateway.tps, direct.tps) };
}

const p99At = (figures: LoadFigures[] | undefined, concurrency: number) =>
  figures?.find((f) => f.concurrency === concurrency)?.p99Ms ?? Infinity;

/** Each target, met or not; `noLostWrites` is the on-chain check. */
export function targetsMet(
  reads: Record<"timeslots" | "audit", LoadFigures[]>,
  writes: Record<"bookings" | "bidCommits", WritePair>,
  noLostWrites: boolean,
  enoughEvents: boolean,
) {
  return {
    events: enoughEvents,
    auditP99Ms_c16: p99At(reads.audit, 16) <= TARGETS.auditP99Ms_c16,
    timeslotsP99Ms_c64: p99At(reads.timeslots, 64) <= TARGETS.timeslotsP99Ms_c64,
    bookingsWriteRatio: writes.bookings.writeRatio >= TARGETS.writeRatio,
    bidCommitsWriteRatio: writes.bidCommits.writeRatio >= TARGETS.writeRatio,
    noLostWrites,
  };
}

/** The figures as Markdown tables, then the targets met and missed. */
export function printReport(
  log: (line: string) => void,
  reads: Record<string, LoadFigures[]>,
  floor: Record<string, LoadFigures[]>,
  writes: Record<"bookings" | "bidCommits", WritePair>,
  met: Record<string, boolean>,
): void {
  log("\nreads (requests/s, p50 ms, p99 ms; the floor: a plain HTTP server answering the same bytes)");
  log(
    "| endpoint | concurrency | rps | p50 ms | p99 ms | errors | floor rps | floor p99 ms |\n" +
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const [endpoint, figures] of Object.entries(reads)) {
    for (const f of figures) {
      const b = floor[endpoint]?.find((x) => x.concurrency === f.concurrency);
      log(
        `| ${endpoint} | ${f.concurrency} | ${f.rps} | ${f.p50Ms} | ${f.p99Ms} | ${f.errors} | ${b?.rps} | ${b?.p99Ms} |`,
      );
    }
  }
  log("\nwrites (transactions/s)");
  log("| write | direct (SDK) | gateway | writeRatio |\n| --- | ---: | ---: | ---: |");
  const b = writes.bookings;
  const c = writes.bidCommits;
  log(`| instant bookings | ${b.direct.tps} | ${b.gateway.tps} | ${b.writeRatio} |`);
  log(`| bid commits | ${c.direct.tps} | ${c.gateway.tps} | ${c.writeRatio} |`);
  const failed = Object.entries(met)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  log(`\ntargets: ${JSON.stringify(TARGETS)}`);
  log(failed.length === 0 ? "all targets met" : `targets failed: ${failed.join(", ")}`);
}
