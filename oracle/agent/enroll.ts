import { Arch } from "../../sdk/index.js";
import type { Inventory } from "../redfish/index.js";

/** A node's resources as `Nodes.registerNode` takes them. */
export interface NodeResources {
  cores: number;
  memoryGiB: number;
  storageGB: number;
  networkGbps: number;
  gpus: number;
  arch: number;
}

const ARCH_OF: Record<Inventory["arch"], number> = {
  x86_64: Arch.X86_64,
  aarch64: Arch.Aarch64,
  riscv64: Arch.Riscv64,
  unknown: Arch.Any,
};
const MBPS_PER_GBPS = 1000;

/** The profile a machine registers with, from what its BMC reports. */
export function resourcesOf(inventory: Inventory): NodeResources {
  const fastest = Math.max(0, ...inventory.nics.map((nic) => nic.speedMbps ?? 0));
  return {
    cores: inventory.cores,
    memoryGiB: inventory.memoryGiB,
    storageGB: inventory.storageGB,
    networkGbps: Math.floor(fastest / MBPS_PER_GBPS),
    gpus: inventory.gpus,
    arch: ARCH_OF[inventory.arch],
  };
}

/**
 * The node's public description: make and model, nothing that locates or identifies the machine
 * on the provider's network (no BMC address, serial or MAC goes on-chain).
 */
export function attributesOf(inventory: Inventory): string {
  const parts = [
    ["vendor", inventory.manufacturer],
    ["model", inventory.model],
    ["threads", String(inventory.threads)],
    ["nics", String(inventory.nics.length)],
  ].filter((pair): pair is [string, string] => pair[1] !== undefined);
  return parts.map(([key, value]) => `${key}=${value.replaceAll(";", ",")}`).join(";");
}
