import { RedfishClient, type RedfishClientOptions } from "./client.js";
import type { Inventory } from "./inventory.js";
import { RedfishSystem } from "./system.js";

/** One inventory read: opens the BMC's system (`systemId` when it has several), reads it, and closes. */
export async function readInventory(options: RedfishClientOptions, systemId?: string): Promise<Inventory> {
  const client = new RedfishClient(options);
  try {
    return await (await RedfishSystem.open(client, systemId)).inventory();
  } finally {
    await client.close();
  }
}
