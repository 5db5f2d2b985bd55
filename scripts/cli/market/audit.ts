import { createWriteStream } from "node:fs";
import { once } from "node:events";

import { Command, Option } from "commander";

import { gatewayOf, withConnection, type ConnectionFlags } from "../connection.js";
import { print, table } from "../output.js";
import { progressBar } from "../progress.js";
import type { AuditRecord, PriceStats as Stats } from "../../../api/records.js";

interface AuditFlags extends ConnectionFlags {
  account?: string;
  tenant?: string;
  node?: string;
  lease?: string;
  offer?: string;
  type?: string;
  fromBlock?: string;
  toBlock?: string;
  from?: string;
  to?: string;
  verify?: boolean;
}

function withFilters(command: Command): Command {
  return command
    .option("--account <address>", "events naming this account")
    .option("--tenant <id>", "events of this tenant")
    .option("--node <id>", "events of this node")
    .option("--lease <id>", "events of this lease")
    .option("--offer <id>", "events of this offer")
    .option("--type <names>", "event names, comma-separated, e.g. LeaseCreated,LeaseEnded")
    .option("--from-block <n>", "from this block")
    .option("--to-block <n>", "up to this block")
    .option("--from <time>", "from this time (ISO 8601 or unix seconds)")
    .option("--to <time>", "up to this time")
    .option("--verify", "check every record against the chain's own receipts");
}

const filtersOf = (flags: AuditFlags) => ({
  account: flags.account,
  tenant: flags.tenant,
  node: flags.node,
  lease: flags.lease,
  offer: flags.offer,
  type: flags.type,
  fromBlock: flags.fromBlock,
  toBlock: flags.toBlock,
  from: flags.from,
  to: flags.to,
  verify: flags.verify === true ? "true" : undefined,
});

/** `market audit ...`: the on-chain record, filtered, verified, exported. */
export function auditCommand(): Command {
  const audit = new Command("audit").description("the audit trail: every state change, from the chain's events");

  withFilters(withConnection(audit.command("events").description("list events, oldest first")))
    .option("--after <id>", "the last id of the previous page")
    .option("--limit <n>", "at most this many", "50")
    .action(async (flags: AuditFlags & { after?: string; limit: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).get<{ events: AuditRecord[]; next: number | null }>("/audit/events", {
        ...filtersOf(flags),
        after: flags.after,
        limit: flags.limit,
      });
      print(answer, flags.json === true, ({ events, next }) =>
        [
          table(events, [
            ["id", (e) => e.id],
            ["block", (e) => e.blockNumber],
            ["time", (e) => e.timestamp],
            ["event", (e) => e.event],
            ["args", (e) => e.args],
            ...(flags.verify === true ? ([["verified", (e: AuditRecord) => e.verified]] as const) : []),
          ]),
          ...(next === null ? [] : [`more: --after ${next}`]),
        ].join("\n"),
      );
    });

  withFilters(withConnection(audit.command("export").description("export every matching event to a file")))
    .addOption(new Option("--format <format>", "file format").choices(["csv", "ndjson"]).default("csv"))
    .requiredOption("--out <file>", "where to write it")
    .action(async (flags: AuditFlags & { format: "csv" | "ndjson"; out: string }) => {
      const body = await (
        await gatewayOf(flags)
      ).stream("/audit/events", { ...filtersOf(flags), format: flags.format });
      const file = createWriteStream(flags.out, { mode: 0o600 });
      const bar = progressBar();
      let lines = 0;
      try {
        for await (const chunk of body) {
          for (const byte of chunk) if (byte === 0x0a) lines++;
          if (!file.write(chunk)) await once(file, "drain");
          bar.count("events exported", flags.format === "csv" ? Math.max(0, lines - 1) : lines);
        }
      } finally {
        bar.finish();
        file.end();
        await once(file, "close");
      }
      const events = flags.format === "csv" ? Math.max(0, lines - 1) : lines;
      print({ file: flags.out, events }, flags.json === true, (r) => `${r.events} events written to ${r.file}`);
    });

  return audit;
}

/** `market prices`: what a configuration sells for. */
export function pricesCommand(): Command {
  return withConnection(
    new Command("prices").description("average, median and last price per hour for a configuration"),
  )
    .option("--cpu <cores>", "at least this many cores", "0")
    .option("--ram <GiB>", "at least this much memory", "0")
    .option("--window <span>", "over this long, e.g. 7d or 12h", "30d")
    .action(async (flags: ConnectionFlags & { cpu: string; ram: string; window: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).get<{ overall: Stats; byModel: Record<string, Stats> }>("/market/prices", {
        cpu: flags.cpu,
        ram: flags.ram,
        window: flags.window,
      });
      print(answer, flags.json === true, ({ overall, byModel }) =>
        table(
          [["all", overall] as const, ...Object.entries(byModel).map(([model, stats]) => [model, stats] as const)],
          [
            ["model", ([model]) => model],
            ["sales", ([, s]) => s.sales],
            ["average", ([, s]) => s.average],
            ["median", ([, s]) => s.median],
            ["last", ([, s]) => s.last],
            ["min", ([, s]) => s.min],
            ["max", ([, s]) => s.max],
          ],
        ),
      );
    });
}
