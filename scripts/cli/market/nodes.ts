import { Command, Option } from "commander";

import type { Node } from "../../../api/records.js";
import { enrollmentProfile } from "../../../oracle/agent/enroll.js";
import { gatewayOf, withConnection, type ConnectionFlags } from "../connection.js";
import { clientOptionsOf, withBmcOptions, type BmcFlags } from "../options.js";
import { print, record, table, warn } from "../output.js";

const size = (n: Node) =>
  `${n.resources.cores} cores, ${n.resources.memoryGiB} GiB, ${n.resources.storageGB} GB` +
  (n.resources.gpus > 0 ? `, ${n.resources.gpus} GPU` : "");

const showNode = (n: Node) =>
  record([
    ["node", n.nodeId],
    ["tenant", n.tenantId],
    ["size", size(n)],
    ["network", `${n.resources.networkGbps} Gbps`],
    ["status", n.status],
    ["agent", n.agent],
    ["attributes", n.attributes],
  ]);

/** `market nodes ...`: machines, enrolled from their BMCs. */
export function nodesCommand(): Command {
  const nodes = new Command("nodes").description("machines: list, enroll from a BMC, maintenance");

  withConnection(nodes.command("list").description("list nodes, optionally those that fit a need"))
    .option("--cpu <cores>", "at least this many cores")
    .option("--ram <GiB>", "at least this much memory")
    .option("--tenant <id>", "only this provider's nodes")
    .action(async (flags: ConnectionFlags & { cpu?: string; ram?: string; tenant?: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).get<{ nodes: Node[] }>("/nodes", { cpu: flags.cpu, ram: flags.ram, tenantId: flags.tenant });
      print(answer, flags.json === true, ({ nodes: rows }) =>
        table(rows, [
          ["id", (n) => n.nodeId],
          ["tenant", (n) => n.tenantId],
          ["size", size],
          ["status", (n) => n.status],
          ["attributes", (n) => n.attributes],
        ]),
      );
    });

  withConnection(nodes.command("show <nodeId>").description("one node")).action(
    async (nodeId: string, flags: ConnectionFlags) => {
      print(await (await gatewayOf(flags)).get<Node>(`/nodes/${nodeId}`), flags.json === true, showNode);
    },
  );

  withConnection(withBmcOptions(nodes.command("enroll")))
    .description("read a machine's inventory from its BMC and register it as your node, run by --agent")
    .requiredOption("--agent <address>", "the account of the agent that will provision it")
    .option("--calendar-unit <seconds>", "the node's calendar resolution", "60")
    .action(async (flags: ConnectionFlags & BmcFlags & { agent: string; calendarUnit: string }) => {
      const profile = await enrollmentProfile(await clientOptionsOf(flags), flags.system);
      warn(profile.warnings);
      const answer = await (
        await gatewayOf(flags)
      ).post<{ node: Node; txHash: string }>("/nodes", {
        resources: profile.resources,
        agent: flags.agent,
        attributes: profile.attributes,
        calendarUnitSeconds: Number(flags.calendarUnit),
      });
      print(answer, flags.json === true, ({ node, txHash }) => `${showNode(node)}\ntx:          ${txHash}`);
    });

  withConnection(nodes.command("status <nodeId>").description("take a node into or out of maintenance, or retire it"))
    .addOption(
      new Option("--set <status>", "the new status")
        .choices(["available", "maintenance", "retired"])
        .makeOptionMandatory(),
    )
    .action(async (nodeId: string, flags: ConnectionFlags & { set: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).post<{ node: Node; txHash: string }>(`/nodes/${nodeId}/status`, { status: flags.set });
      print(answer, flags.json === true, ({ node }) => showNode(node));
    });

  return nodes;
}
