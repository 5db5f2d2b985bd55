import { Arch } from "../../sdk/index.js";
import { addressOf, readInventory, type Inventory, type RedfishClientOptions } from "../redfish/index.js";

/** A node's resources as `Nodes.registerNode` takes them. */
export interface NodeResources {
  cores: number;
  memoryGiB: number;
  storageGB: number;
  networkGbps: number;
  gpus: number;
  arch: number;
}

/** The BMC did not give what a node's profile cannot do without (its cores, its memory). */
export class IncompleteInventoryError extends Error {
  override readonly name = "IncompleteInventoryError";
  constructor(readonly missing: Inventory["unknown"]) {
    super(
      `the BMC's inventory lacks what the node's profile needs: ${missing.map((m) => `${m.part} (${m.reason})`).join("; ")}`,
    );
  }
}

const ARCH_OF: Record<Inventory["arch"], number> = {
  x86_64: Arch.X86_64,
  aarch64: Arch.Aarch64,
  riscv64: Arch.Riscv64,
  unknown: Arch.Any,
};
const MBPS_PER_GBPS = 1000;
/** Without these the contract refuses the node (and a guess would mislead buyers). */
const REQUIRED: readonly Inventory["unknown"][number]["part"][] = ["cores", "memory"];

/**
 * The profile a machine registers with, from what its BMC reports. Storage and GPUs it could not
 * read count as what was read (never more than the machine has); unknown cores or memory refuse.
 */
export function resourcesOf(inventory: Inventory): NodeResources {
  const { cores, memoryGiB } = inventory;
  if (cores === undefined || memoryGiB === undefined) {
    throw new IncompleteInventoryError(inventory.unknown.filter((u) => REQUIRED.includes(u.part)));
  }
  const fastest = Math.max(0, ...inventory.nics.map((nic) => nic.speedMbps ?? 0));
  return {
    cores,
    memoryGiB,
    storageGB: inventory.storageGB ?? 0,
    networkGbps: Math.floor(fastest / MBPS_PER_GBPS),
    gpus: inventory.gpus ?? 0,
    arch: ARCH_OF[inventory.arch],
  };
}

/**
 * What an operator enrolling the machine should hear: the parts the BMC did not report, and
 * whether the agent can learn the machine's address (without it, and without an `address` in the
 * agent's configuration, every lease of the node would fail at provisioning).
 */
export function enrollmentWarnings(inventory: Inventory): string[] {
  const address = addressOf(inventory);
  return [
    ...inventory.unknown
      .filter((u) => !REQUIRED.includes(u.part))
      .map((u) => `${u.part} unknown, registered as what could be read: ${u.reason}`),
    ...(address.ok
      ? []
      : [`${address.reason}: give the node an "address" in the agent's configuration, or its leases will fail`]),
  ];
}

/**
 * The node's public description: make and model, nothing that locates or identifies the machine
 * on the provider's network (no BMC address, serial or MAC goes on-chain).
 */
export function attributesOf(inventory: Inventory): string {
  const parts = [
    ["vendor", inventory.manufacturer],
    ["model", inventory.model],
    ["threads", inventory.threads === undefined ? undefined : String(inventory.threads)],
    ["nics", String(inventory.nics.length)],
  ].filter((pair): pair is [string, string] => pair[1] !== undefined);
  return parts.map(([key, value]) => `${key}=${value.replaceAll(";", ",")}`).join(";");
}

/** What a node enrols with, read once from its BMC: the profile, its public description, and what to warn of. */
export interface EnrollmentProfile {
  inventory: Inventory;
  resources: NodeResources;
  attributes: string;
  warnings: string[];
}

/**
 * Reads a machine's inventory from its BMC and makes the profile it registers with. Runs on the
 * provider's side (the agent, the CLI): the gateway never reaches a BMC.
 */
export async function enrollmentProfile(bmc: RedfishClientOptions, systemId?: string): Promise<EnrollmentProfile> {
  const inventory = await readInventory(bmc, systemId);
  return {
    inventory,
    resources: resourcesOf(inventory),
    attributes: attributesOf(inventory),
    warnings: enrollmentWarnings(inventory),
  };
}
