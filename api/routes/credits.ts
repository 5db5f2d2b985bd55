import { z } from "zod";

import { CreditRequestStatus, nameOf } from "../../sdk/index.js";
import { conflict, invalidInput, notFound } from "../errors.js";
import { credits, creditsInput, idParam, isoTime } from "../http/schemas.js";
import type { User } from "../identity/users.js";
import { findCreditRequest, listCreditRequests, type CreditRequestRow } from "../readmodel/credit-requests.js";
import { type Services } from "../services.js";
import { depositWallet } from "../transactions.js";
import { route } from "./define.js";
import { balanceOf, balanceSchema } from "./tenants.js";

export const requestSchema = z.object({
  requestId: z.number(),
  requester: z.string(),
  amount: z.string(),
  reason: z.string(),
  status: z.enum(["pending", "approved", "rejected", "cancelled"]),
  decidedBy: z.string().nullable(),
  decisionReason: z.string().nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
});

function requestView(row: CreditRequestRow): z.infer<typeof requestSchema> {
  return {
    requestId: Number(row.request_id),
    requester: row.requester,
    amount: credits(row.amount) ?? "0",
    reason: row.reason,
    status: String(nameOf(CreditRequestStatus, Number(row.status))).toLowerCase() as "pending",
    decidedBy: row.decided_by,
    decisionReason: row.decision_reason,
    createdAt: isoTime(row.created_at) ?? "",
    decidedAt: isoTime(row.decided_at),
  };
}

async function requestRow(services: Services, requestId: number): Promise<CreditRequestRow> {
  const row = await findCreditRequest(services.db, requestId);
  if (row === undefined) throw notFound(`credit request ${requestId}`);
  return row;
}

async function targetUser(services: Services, userId: string): Promise<User> {
  const user = await services.users.byId(userId);
  if (user === undefined) throw invalidInput("body.userId", "no such user");
  return user;
}

const grantBody = z
  .object({
    userId: z.string().uuid(),
    amount: creditsInput,
    memo: z.string().max(200).default(""),
  })
  .strict();

export const creditRoutes = [
  route({
    method: "get",
    path: "/credits/balance",
    tag: "credits",
    summary: "A user's credits: in the wallet, available in the market, escrowed",
    description: "Yours by default; staff may ask for anyone's, tenant admins for their members'.",
    access: "user",
    query: z.object({ userId: z.string().uuid().optional() }).strict(),
    response: balanceSchema,
    async handler({ query, caller, services }) {
      let user = caller;
      if (query.userId !== undefined && query.userId !== caller.userId) {
        const other = await services.users.byId(query.userId);
        const staff = caller.roles.includes("admin") || caller.roles.includes("auditor");
        const ownTenantAdmin =
          caller.roles.includes("tenantAdmin") && other !== undefined && other.tenantId === caller.tenantId;
        if (other === undefined || !(staff || ownTenantAdmin)) throw notFound(`user ${query.userId}`);
        user = other;
      }
      return balanceOf(services, user.address);
    },
  }),

  route({
    method: "post",
    path: "/credits/grant",
    tag: "credits",
    summary: "Grant credits to a user (minted to them, and put in their market account when custodial)",
    access: ["admin"],
    body: grantBody,
    response: z.object({ txHash: z.string(), balance: balanceSchema }),
    async handler({ body, caller, services }) {
      const user = await targetUser(services, body.userId);
      const sent = await services.send(caller, (c) => c.credits.grant(user.address, body.amount, body.memo));
      await depositWallet(services, user);
      return { txHash: sent.txHash, balance: await balanceOf(services, user.address) };
    },
  }),

  route({
    method: "post",
    path: "/credits/take",
    tag: "credits",
    summary: "Take credits back from a user (from their market account first when custodial)",
    access: ["admin"],
    body: grantBody,
    response: z.object({ txHash: z.string(), balance: balanceSchema }),
    async handler({ body, caller, services }) {
      const user = await targetUser(services, body.userId);
      const held = await services.market.credits.balanceOf(user.address);
      if (held < body.amount && user.custodial) {
        const [available] = await services.market.market.accountOf(user.address);
        const shortfall = body.amount - held;
        if (available < shortfall) {
          throw conflict(`the user has only ${credits(held + available)} credits free to take`, "body.amount");
        }
        await services.send(user, (c) => c.market.withdraw(shortfall));
      }
      const sent = await services.send(caller, (c) => c.credits.take(user.address, body.amount, body.memo));
      return { txHash: sent.txHash, balance: await balanceOf(services, user.address) };
    },
  }),

  route({
    method: "post",
    path: "/credits/requests",
    tag: "credits",
    summary: "Ask the marketplace for more credits",
    access: ["buyer", "provider", "tenantAdmin"],
    status: 201,
    body: z.object({ amount: creditsInput, reason: z.string().min(1).max(500) }).strict(),
    response: z.object({ txHash: z.string(), request: requestSchema }),
    async handler({ body, caller, services }) {
      const sent = await services.send(caller, (c) => c.credits.requestCredits(body.amount, body.reason));
      const requested = sent.events.find((event) => event.name === "CreditsRequested");
      if (requested === undefined) throw new Error("no CreditsRequested event");
      return {
        txHash: sent.txHash,
        request: requestView(await requestRow(services, Number(requested.args.requestId))),
      };
    },
  }),

  route({
    method: "get",
    path: "/credits/requests",
    tag: "credits",
    summary: "Credit requests: all for staff, your own otherwise",
    access: "user",
    query: z.object({ status: requestSchema.shape.status.optional() }).strict(),
    response: z.object({ requests: z.array(requestSchema) }),
    async handler({ query, caller, services }) {
      const staff = caller.roles.includes("admin") || caller.roles.includes("auditor");
      const rows = await listCreditRequests(services.db);
      const requests = rows
        .filter((row) => staff || row.requester === caller.address)
        .map(requestView)
        .filter((request) => query.status === undefined || request.status === query.status);
      return { requests };
    },
  }),

  route({
    method: "post",
    path: "/credits/requests/:requestId/approve",
    tag: "credits",
    summary: "Approve a credit request: the credits are minted to the requester",
    access: ["admin"],
    params: idParam("requestId"),
    response: z.object({ txHash: z.string(), request: requestSchema }),
    async handler({ params, caller, services }) {
      const row = await requestRow(services, params.requestId);
      const sent = await services.send(caller, (c) => c.credits.approveRequest(params.requestId));
      for (const requester of await services.users.byAddress(row.requester)) await depositWallet(services, requester);
      return { txHash: sent.txHash, request: requestView(await requestRow(services, params.requestId)) };
    },
  }),

  route({
    method: "post",
    path: "/credits/requests/:requestId/reject",
    tag: "credits",
    summary: "Reject a credit request, with a reason",
    access: ["admin"],
    params: idParam("requestId"),
    body: z.object({ reason: z.string().min(1).max(500) }).strict(),
    response: z.object({ txHash: z.string(), request: requestSchema }),
    async handler({ params, body, caller, services }) {
      await requestRow(services, params.requestId);
      const sent = await services.send(caller, (c) => c.credits.rejectRequest(params.requestId, body.reason));
      return { txHash: sent.txHash, request: requestView(await requestRow(services, params.requestId)) };
    },
  }),
];
