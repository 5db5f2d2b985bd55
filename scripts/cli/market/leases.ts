import { Command } from "commander";

import { gatewayOf, onChain, withConnection, type ConnectionFlags } from "../connection.js";
import { print, record, table } from "../output.js";
import { sendOnChain } from "./chain.js";
import type { Lease, Usage } from "../../../api/records.js";

export const showLease = (l: Lease) =>
  record([
    ["lease", l.leaseId],
    ["node", `${l.nodeId}${l.nodeAddress === null ? "" : ` at ${l.nodeAddress}`}`],
    ["status", l.endReason === null ? l.status : `${l.status} (${l.endReason})`],
    ["runs", `${l.start} to ${l.end}`],
    ["price/hour", l.pricePerHour],
    ["cost", l.cost],
    ["refund", l.refund],
  ]);

export const showUsage = (u: Usage) =>
  [
    record([
      ["lease", `${u.lease.leaseId} (${u.lease.status})`],
      ["used", `${Math.round(u.elapsedSeconds / 60)} min, ${u.accrued} credits`],
      ["anchored", u.metering === null ? null : `${u.metering.recordHash} until ${u.metering.meteredUntil}`],
    ]),
    table(
      u.samples,
      [
        ["at", (s) => s.at],
        ["power", (s) => s.powerState],
        ["watts", (s) => s.watts],
      ],
      "(no samples yet)",
    ),
  ].join("\n");

/** `market leases ...`: the contracts between buyer and provider. */
export function leasesCommand(): Command {
  const leases = new Command("leases").description("leases: list, show, release, preempt");

  withConnection(leases.command("list").description("your leases (all, for staff)"))
    .option("--status <status>", "pending, active, ended or cleaned")
    .option("--node <id>", "only this node's")
    .action(async (flags: ConnectionFlags & { status?: string; node?: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).get<{ leases: Lease[] }>("/leases", { status: flags.status, nodeId: flags.node });
      print(answer, flags.json === true, ({ leases: rows }) =>
        table(rows, [
          ["id", (l) => l.leaseId],
          ["node", (l) => l.nodeId],
          ["status", (l) => l.status],
          ["start", (l) => l.start],
          ["end", (l) => l.end],
          ["price/h", (l) => l.pricePerHour],
          ["address", (l) => l.nodeAddress],
        ]),
      );
    });

  withConnection(leases.command("usage <leaseId>").description("what a lease has used: time, credits, power")).action(
    async (leaseId: string, flags: ConnectionFlags) => {
      print(await (await gatewayOf(flags)).get<Usage>(`/leases/${leaseId}/usage`), flags.json === true, showUsage);
    },
  );

  withConnection(leases.command("show <leaseId>").description("one lease")).action(
    async (leaseId: string, flags: ConnectionFlags) => {
      print(await (await gatewayOf(flags)).get<Lease>(`/leases/${leaseId}`), flags.json === true, showLease);
    },
  );

  for (const [verb, what] of [
    ["release", "end your lease early; the unused time is refunded"],
    ["preempt", "take your node back from a lease (maintenance), with notice: it ends after the notice"],
  ] as const) {
    withConnection(leases.command(`${verb} <leaseId>`).description(what)).action(
      async (leaseId: string, flags: ConnectionFlags) => {
        if (onChain(flags)) {
          const id = Number(leaseId);
          const sent = await sendOnChain(flags, (c) =>
            verb === "release" ? c.leases.release(id) : c.leases.preempt(id),
          );
          print(sent, flags.json === true, (s) => record([["tx", s.txHash]]));
          return;
        }
        const answer = await (
          await gatewayOf(flags)
        ).post<{ lease: Lease; endsAt?: string }>(`/leases/${leaseId}/${verb}`);
        print(answer, flags.json === true, ({ lease, endsAt }) =>
          endsAt === undefined ? showLease(lease) : `${showLease(lease)}\n${record([["ends at", endsAt]])}`,
        );
      },
    );
  }

  return leases;
}
