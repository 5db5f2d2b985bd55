import { z } from "zod";

import { LeaseStatus } from "../../sdk/index.js";
import { forbidden, notFound } from "../errors.js";
import { address, idParam, isoTime } from "../http/schemas.js";
import type { User } from "../identity/users.js";
import { leaseRow, leaseSchema, leaseView, listLeases, usageSchema, type LeaseRow } from "../readmodel/leases.js";
import type { Services } from "../services.js";
import { eventOf } from "../transactions.js";
import { route } from "./define.js";
import { requireNodeManager } from "./nodes.js";
import { usageWithSamples } from "./timeslots.js";

const STATUS = {
  pending: LeaseStatus.Pending,
  active: LeaseStatus.Active,
  ended: LeaseStatus.Ended,
  cleaned: LeaseStatus.Cleaned,
};

/** Staff see every lease; others the leases they bought and those on their tenant's nodes. */
function canSee(caller: User, row: LeaseRow): boolean {
  if (caller.roles.includes("admin") || caller.roles.includes("auditor")) return true;
  return row.buyer === caller.address || (caller.tenantId !== null && Number(row.tenant_id) === caller.tenantId);
}

async function visibleLease(services: Services, caller: User, leaseId: number): Promise<LeaseRow> {
  const row = await leaseRow(services.db, leaseId);
  if (row === undefined || !canSee(caller, row)) throw notFound(`lease ${leaseId}`);
  return row;
}

export const leaseRoutes = [
  route({
    method: "get",
    path: "/leases",
    tag: "leases",
    summary: "Leases you may see, newest first: bought by you, on your tenant's nodes, or all for staff",
    access: "user",
    query: z
      .object({
        status: z.enum(["pending", "active", "ended", "cleaned"]).optional(),
        nodeId: z.coerce.number().int().positive().optional(),
        buyer: address.optional(),
        before: z.coerce.number().int().positive().optional().describe("the last leaseId of the previous page"),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      })
      .strict(),
    response: z.object({ leases: z.array(leaseSchema), next: z.number().nullable() }),
    async handler({ query, caller, services }) {
      const staff = caller.roles.includes("admin") || caller.roles.includes("auditor");
      const rows = await listLeases(services.db, {
        visibleTo: staff ? undefined : { account: caller.address, tenantId: caller.tenantId },
        status: query.status === undefined ? undefined : STATUS[query.status],
        nodeId: query.nodeId,
        buyer: query.buyer,
        before: query.before,
        limit: query.limit,
      });
      const leases = rows.map(leaseView);
      return { leases, next: leases.length === query.limit ? (leases.at(-1)?.leaseId ?? null) : null };
    },
  }),

  route({
    method: "get",
    path: "/leases/:leaseId",
    tag: "leases",
    summary: "One lease: its state, node address once provisioned, and settlement",
    access: "user",
    params: idParam("leaseId"),
    response: leaseSchema,
    async handler({ params, caller, services }) {
      return leaseView(await visibleLease(services, caller, params.leaseId));
    },
  }),

  route({
    method: "get",
    path: "/leases/:leaseId/usage",
    tag: "leases",
    summary: "What a lease has used: time delivered, credits accrued, metering",
    access: "user",
    params: idParam("leaseId"),
    response: usageSchema,
    async handler({ params, caller, services }) {
      return usageWithSamples(services, await visibleLease(services, caller, params.leaseId));
    },
  }),

  route({
    method: "post",
    path: "/leases/:leaseId/release",
    tag: "leases",
    summary:
      "Release your lease early: you pay up to the end of the slice under way, the rest is refunded; before its " +
      "start, all but the cancellation fee (default 10%, to the treasury)",
    access: ["buyer"],
    params: idParam("leaseId"),
    response: z.object({ txHash: z.string(), lease: leaseSchema }),
    async handler({ params, caller, services }) {
      const row = await visibleLease(services, caller, params.leaseId);
      if (row.buyer !== caller.address) throw forbidden("only the lease's buyer may release it");
      const sent = await services.send(caller, (c) => c.leases.release(params.leaseId));
      return { txHash: sent.txHash, lease: leaseView((await leaseRow(services.db, params.leaseId)) ?? row) };
    },
  }),

  route({
    method: "post",
    path: "/leases/:leaseId/preempt",
    tag: "leases",
    summary:
      "Take a node back from a lease (e.g. for maintenance), with notice: the lease ends after the deployment's " +
      "preemption notice (default 2 minutes) and its buyer pays only for the time it ran; a lease that would not " +
      "have started by then is cancelled at once, and you pay its buyer the cancellation fee",
    access: ["provider", "tenantAdmin"],
    params: idParam("leaseId"),
    response: z.object({
      txHash: z.string(),
      lease: leaseSchema,
      endsAt: z
        .string()
        .describe("when the lease ends: the notice's end, or now for a lease cancelled before its start"),
    }),
    async handler({ params, caller, services }) {
      const row = await visibleLease(services, caller, params.leaseId);
      requireNodeManager(caller, row);
      const sent = await services.send(caller, (c) => c.leases.preempt(params.leaseId));
      return {
        txHash: sent.txHash,
        lease: leaseView((await leaseRow(services.db, params.leaseId)) ?? row),
        endsAt: isoTime(Number(eventOf(sent, "LeasePreempted").args.endsAt)) ?? "",
      };
    },
  }),
];
