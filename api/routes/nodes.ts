import { z } from "zod";

import { NodeStatus, nameOf } from "../../sdk/index.js";
import { forbidden, invalidInput, notFound } from "../errors.js";
import { address, idParam, instant, isoTime, UINT32_MAX } from "../http/schemas.js";
import type { User } from "../identity/users.js";
import { findNode, listNodes, type NodeRow } from "../readmodel/nodes.js";
import { bookedByNode, resourcesOf as resourcesOfRow } from "../readmodel/offers.js";
import { type Services } from "../services.js";
import { eventOf } from "../transactions.js";
import { route } from "./define.js";

const resources = z.object({
  cores: z.number().int().min(1).max(65_535),
  memoryGiB: z.number().int().min(1).max(UINT32_MAX),
  storageGB: z.number().int().min(0).max(UINT32_MAX),
  networkGbps: z.number().int().min(0).max(65_535),
  gpus: z.number().int().min(0).max(255),
  arch: z.number().int().min(0).max(3).describe("0 any, 1 x86_64, 2 aarch64, 3 riscv64"),
});

export const nodeSchema = z.object({
  nodeId: z.number(),
  tenantId: z.number(),
  provider: z.string(),
  agent: z.string(),
  calendarUnitSeconds: z.number(),
  resources,
  attributes: z.string(),
  status: z.enum(["available", "maintenance", "retired"]),
  registeredAt: z.string(),
});

function nodeView(row: NodeRow): z.infer<typeof nodeSchema> {
  return {
    nodeId: Number(row.node_id),
    tenantId: Number(row.tenant_id),
    provider: row.provider,
    agent: row.agent,
    calendarUnitSeconds: Number(row.calendar_unit),
    resources: resourcesOfRow(row),
    attributes: row.attributes,
    status: String(nameOf(NodeStatus, Number(row.status))).toLowerCase() as "available",
    registeredAt: isoTime(row.registered_at) ?? "",
  };
}

export async function nodeRow(services: Services, nodeId: number): Promise<NodeRow> {
  const row = await findNode(services.db, nodeId);
  if (row === undefined) throw notFound(`node ${nodeId}`);
  return row;
}

/** Providers and tenant admins manage their own tenant's nodes. */
export function requireNodeManager(caller: User, node: { tenant_id: number }): void {
  if (caller.tenantId !== Number(node.tenant_id)) throw forbidden("the node belongs to another tenant");
}

const STATUS_VALUES = {
  available: NodeStatus.Available,
  maintenance: NodeStatus.Maintenance,
  retired: NodeStatus.Retired,
};

export const nodeRoutes = [
  route({
    method: "get",
    path: "/nodes",
    tag: "nodes",
    summary: "Nodes, filtered by tenant, status and least resources (`cpu` cores, `ram` GiB)",
    access: "user",
    query: z
      .object({
        tenantId: z.coerce.number().int().positive().optional(),
        status: z.enum(["available", "maintenance", "retired"]).optional(),
        cpu: z.coerce.number().int().min(0).default(0),
        ram: z.coerce.number().min(0).default(0),
      })
      .strict(),
    response: z.object({ nodes: z.array(nodeSchema) }),
    async handler({ query, services }) {
      const rows = await listNodes(services.db, {
        cores: query.cpu,
        memoryGiB: query.ram,
        tenantId: query.tenantId,
        status: query.status === undefined ? undefined : STATUS_VALUES[query.status],
      });
      return { nodes: rows.map(nodeView) };
    },
  }),

  route({
    method: "get",
    path: "/nodes/:nodeId",
    tag: "nodes",
    summary: "One node",
    access: "user",
    params: idParam("nodeId"),
    response: nodeSchema,
    async handler({ params, services }) {
      return nodeView(await nodeRow(services, params.nodeId));
    },
  }),

  route({
    method: "get",
    path: "/nodes/:nodeId/calendar",
    tag: "nodes",
    summary: "When a node is booked between `start` and `end` (ISO 8601 or unix seconds)",
    access: "user",
    params: idParam("nodeId"),
    query: z.object({ start: instant.optional(), end: instant.optional() }).strict(),
    response: z.object({
      nodeId: z.number(),
      start: z.string(),
      end: z.string(),
      booked: z.array(z.object({ start: z.string(), end: z.string() })),
    }),
    async handler({ params, query, services }) {
      await nodeRow(services, params.nodeId);
      const start = query.start ?? (await services.chainTime());
      const end = query.end ?? start + 7 * 86_400;
      if (end <= start) throw invalidInput("query.end", "must be after start");
      const booked = (await bookedByNode(services.db, [params.nodeId], start, end)).get(params.nodeId) ?? [];
      return {
        nodeId: params.nodeId,
        start: isoTime(start) ?? "",
        end: isoTime(end) ?? "",
        booked: booked.map((b) => ({ start: isoTime(b.start) ?? "", end: isoTime(b.end) ?? "" })),
      };
    },
  }),

  route({
    method: "post",
    path: "/nodes",
    tag: "nodes",
    summary: "Register a node of your tenant, run by an agent account",
    access: ["provider"],
    status: 201,
    body: z
      .object({
        resources,
        calendarUnitSeconds: z.number().int().min(5).max(86_400).default(60),
        agent: address.describe("the account of the agent that provisions the node"),
        attributes: z.string().max(1000).default(""),
      })
      .strict(),
    response: z.object({ node: nodeSchema, txHash: z.string() }),
    async handler({ body, caller, services }) {
      return registerNode(services, caller, body);
    },
  }),

  route({
    method: "post",
    path: "/nodes/:nodeId/status",
    tag: "nodes",
    summary: "Take a node into maintenance, bring it back, or retire it",
    access: ["provider", "tenantAdmin"],
    params: idParam("nodeId"),
    body: z.object({ status: z.enum(["available", "maintenance", "retired"]) }).strict(),
    response: z.object({ node: nodeSchema, txHash: z.string() }),
    async handler({ params, body, caller, services }) {
      requireNodeManager(caller, await nodeRow(services, params.nodeId));
      const sent = await services.send(caller, (c) => c.nodes.setStatus(params.nodeId, STATUS_VALUES[body.status]));
      return { node: nodeView(await nodeRow(services, params.nodeId)), txHash: sent.txHash };
    },
  }),
];

async function registerNode(
  services: Services,
  caller: User,
  node: { resources: z.infer<typeof resources>; calendarUnitSeconds: number; agent: string; attributes: string },
) {
  const sent = await services.send(caller, (c) =>
    c.nodes.registerNode(node.resources, node.calendarUnitSeconds, node.agent, node.attributes),
  );
  const nodeId = Number(eventOf(sent, "NodeRegistered").args.nodeId);
  return { node: nodeView(await nodeRow(services, nodeId)), txHash: sent.txHash };
}
