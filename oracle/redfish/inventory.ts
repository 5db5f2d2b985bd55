import { z } from "zod";

import { linkOf, membersOf, type RedfishClient, type RedfishDocument } from "./client.js";
import { RedfishError } from "./errors.js";

/** A part of the inventory that may be unknown when the BMC does not say. */
export type InventoryPart = "cores" | "threads" | "gpus" | "arch" | "memory" | "storage" | "nics";

/** What a machine has, as its BMC reports it: enough to register it with its true profile. */
export interface Inventory {
  systemId: string;
  manufacturer: string | undefined;
  model: string | undefined;
  serialNumber: string | undefined;
  /** `undefined` when no source of the figure could be read; see `unknown` for why. */
  cores: number | undefined;
  threads: number | undefined;
  gpus: number | undefined;
  memoryGiB: number | undefined;
  /** A lower bound when some storage could not be read (listed in `unknown`). */
  storageGB: number | undefined;
  arch: "x86_64" | "aarch64" | "riscv64" | "unknown";
  nics: { id: string; macAddress: string; speedMbps: number | undefined; ipv4: string[] }[];
  /** The parts the BMC did not report or whose resources could not be read, and why. */
  unknown: { part: InventoryPart; reason: string }[];
}

// Lenient schemas: a field of the wrong type is as good as missing, and missing means unknown.
const count = z.number().nonnegative().optional().catch(undefined);
const text = z.string().optional().catch(undefined);

const systemSchema = z
  .object({
    Id: z.string(),
    Manufacturer: text,
    Model: text,
    SerialNumber: text,
    ProcessorSummary: z
      .object({ CoreCount: count, LogicalProcessorCount: count })
      .partial()
      .optional()
      .catch(undefined),
    MemorySummary: z.object({ TotalSystemMemoryGiB: count }).partial().optional().catch(undefined),
  })
  .passthrough();

const processorSchema = z
  .object({
    ProcessorType: text,
    TotalCores: count,
    TotalThreads: count,
    InstructionSet: text,
    ProcessorArchitecture: text,
  })
  .passthrough();

const memorySchema = z.object({ CapacityMiB: count }).passthrough();

const simpleStorageSchema = z
  .object({
    Devices: z
      .array(z.object({ CapacityBytes: count, Status: z.object({ State: text }).partial().optional() }).passthrough())
      .optional()
      .catch(undefined),
  })
  .passthrough();

const storageSchema = z
  .object({
    Drives: z
      .array(z.object({ "@odata.id": z.string() }).passthrough())
      .optional()
      .catch(undefined),
  })
  .passthrough();

const driveSchema = z.object({ CapacityBytes: count }).passthrough();

const nicSchema = z
  .object({
    Id: z.string(),
    MACAddress: z.string(),
    SpeedMbps: count,
    EthernetInterfaceType: text,
    IPv4Addresses: z
      .array(z.object({ Address: text }).passthrough())
      .optional()
      .catch(undefined),
  })
  .passthrough();

type Nic = z.infer<typeof nicSchema>;

/** Whether the machine's address can be learned from its BMC: its first IPv4, or why there is none. */
export type AddressCheck = { ok: true; address: string } | { ok: false; reason: string };

/** Addresses a BMC reports for an interface that has none. */
const NO_ADDRESS = new Set(["0.0.0.0", ""]);

/**
 * Reads a machine's inventory from its System document. Sub-resources are read as sushy reads its
 * lazy resources: one that is missing, unreadable or malformed makes its part unknown (and says
 * why) instead of failing the whole read. Only the System itself must be readable.
 */
export async function readSystemInventory(client: RedfishClient, path: string): Promise<Inventory> {
  const parsed = systemSchema.safeParse(await client.get(path));
  if (!parsed.success)
    throw new RedfishError(`GET ${path} is not a readable ComputerSystem: ${parsed.error.message}`, false);
  const system = parsed.data;
  const unknown: Inventory["unknown"] = [];
  /** Notes `part` as unknown (or partly known) with the reasons its sources gave. */
  const note = (part: InventoryPart, reasons: string[], otherwise: string) =>
    unknown.push({ part, reason: reasons.length > 0 ? reasons.join("; ") : otherwise });

  const processors = await readMembers(client, linkOf(system, "Processors"), "Processors");
  const complete = processors.unread.length === 0;
  const read = processors.documents.flatMap((doc) => parsedOr(processorSchema, doc));
  const cpus = read.filter((p) => p.ProcessorType === undefined || p.ProcessorType === "CPU");
  const summary = system.ProcessorSummary;
  const cores = total(
    processors,
    cpus.map((p) => p.TotalCores),
    summary?.CoreCount,
  );
  const threads = total(
    processors,
    cpus.map((p) => p.TotalThreads),
    summary?.LogicalProcessorCount,
  );
  const gpus = complete ? read.filter((p) => p.ProcessorType === "GPU").length : undefined;
  const arch = archOf(cpus[0]?.InstructionSet ?? cpus[0]?.ProcessorArchitecture ?? "");
  if (cores === undefined) note("cores", processors.unread, "no processor and no ProcessorSummary gives CoreCount");
  if (threads === undefined) note("threads", processors.unread, "no processor and no ProcessorSummary gives threads");
  if (gpus === undefined) note("gpus", processors.unread, "");
  if (arch === "unknown") note("arch", processors.unread, "no processor gives its InstructionSet");

  let memoryGiB = system.MemorySummary?.TotalSystemMemoryGiB;
  if (memoryGiB === undefined) {
    const memory = await readMembers(client, linkOf(system, "Memory"), "Memory");
    const mib = total(
      memory,
      memory.documents.map((doc) => parsedOr(memorySchema, doc)[0]?.CapacityMiB),
    );
    memoryGiB = mib === undefined ? undefined : mib / 1024;
    if (memoryGiB === undefined) note("memory", memory.unread, "no TotalSystemMemoryGiB and no Memory capacities");
  }

  const disks: number[] = [];
  const storageUnread: string[] = [];
  const simple = await readMembers(client, linkOf(system, "SimpleStorage"), "SimpleStorage");
  for (const storage of simple.documents.flatMap((doc) => parsedOr(simpleStorageSchema, doc))) {
    for (const device of storage.Devices ?? []) {
      if (device.Status?.State !== "Absent" && device.CapacityBytes !== undefined) disks.push(device.CapacityBytes);
    }
  }
  const storages = await readMembers(client, linkOf(system, "Storage"), "Storage");
  for (const storage of storages.documents.flatMap((doc) => parsedOr(storageSchema, doc))) {
    for (const drive of storage.Drives ?? []) {
      const document = await readOne(client, drive["@odata.id"], storageUnread);
      const bytes = document === undefined ? undefined : parsedOr(driveSchema, document)[0]?.CapacityBytes;
      if (bytes !== undefined) disks.push(bytes);
      else if (document !== undefined) storageUnread.push(`${drive["@odata.id"]} gives no CapacityBytes`);
    }
  }
  // A machine may link one kind of storage and not the other; each unreadable link counts.
  storageUnread.unshift(...[simple, storages].flatMap((c) => (c.linked ? c.unread : [])));
  const storageRead = simple.documents.length + storages.documents.length > 0;
  const storageGB = storageRead ? sum(disks) / 1e9 : undefined;
  if (storageUnread.length > 0 || !storageRead) note("storage", storageUnread, "no SimpleStorage or Storage");

  const interfaces = await readMembers(client, linkOf(system, "EthernetInterfaces"), "EthernetInterfaces");
  const nics = physicalNics(interfaces.documents.flatMap((doc) => parsedOr(nicSchema, doc)));
  if (interfaces.unread.length > 0) note("nics", interfaces.unread, "");

  return {
    systemId: system.Id,
    manufacturer: system.Manufacturer,
    model: system.Model,
    serialNumber: system.SerialNumber,
    cores,
    threads,
    gpus,
    memoryGiB: memoryGiB === undefined ? undefined : Math.floor(memoryGiB),
    storageGB: storageGB === undefined ? undefined : Math.floor(storageGB),
    arch,
    nics,
    unknown,
  };
}

/**
 * Reads only the System's EthernetInterfaces and says whether the machine's IPv4 address can be
 * learned there, as the agent does when a node has no configured `address`.
 */
export async function readAddress(client: RedfishClient, path: string): Promise<AddressCheck> {
  const system = await client.get(path);
  const interfaces = await readMembers(client, linkOf(system, "EthernetInterfaces"), "EthernetInterfaces");
  return addressFrom(physicalNics(interfaces.documents.flatMap((doc) => parsedOr(nicSchema, doc))), interfaces.unread);
}

/** The address check from an inventory already read. */
export function addressOf(inventory: Inventory): AddressCheck {
  return addressFrom(
    inventory.nics,
    inventory.unknown.filter((u) => u.part === "nics").map((u) => u.reason),
  );
}

function addressFrom(nics: Inventory["nics"], unread: string[]): AddressCheck {
  const address = nics.flatMap((nic) => nic.ipv4).find((ip) => !NO_ADDRESS.has(ip));
  if (address !== undefined) return { ok: true, address };
  const seen =
    nics.length === 0 ? "no physical EthernetInterfaces" : `no IPv4 address on ${nics.map((n) => n.id).join(", ")}`;
  return { ok: false, reason: [`the BMC reports ${seen}`, ...unread].join("; ") };
}

/**
 * A collection's members, each read on its own; `unread` says which could not be, and why (a
 * missing link included: then `linked` is false).
 */
async function readMembers(
  client: RedfishClient,
  link: string | undefined,
  name: string,
): Promise<{ documents: RedfishDocument[]; unread: string[]; linked: boolean }> {
  const unread: string[] = [];
  if (link === undefined) return { documents: [], unread: [`the System links no ${name}`], linked: false };
  const collection = await readOne(client, link, unread);
  if (collection === undefined) return { documents: [], unread, linked: true };
  const documents = await Promise.all(membersOf(collection).map((member) => readOne(client, member, unread)));
  return { documents: documents.filter((doc): doc is RedfishDocument => doc !== undefined), unread, linked: true };
}

/** One document, or undefined with the reason pushed to `unread`. */
async function readOne(client: RedfishClient, path: string, unread: string[]): Promise<RedfishDocument | undefined> {
  try {
    return await client.get(path);
  } catch (error) {
    unread.push(error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

function parsedOr<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, document: RedfishDocument): T[] {
  const parsed = schema.safeParse(document);
  return parsed.success ? [parsed.data] : [];
}

/** The members' sum when each gave it, else the summary's figure, else what the members gave (a lower bound). */
function total(read: { unread: string[] }, values: (number | undefined)[], summary?: number): number | undefined {
  const known = values.filter((value): value is number => value !== undefined);
  if (read.unread.length === 0 && known.length > 0 && known.length === values.length) return sum(known);
  return summary ?? (known.length > 0 ? sum(known) : undefined);
}

/** Where the BMC types its interfaces, VLANs and the host-to-BMC link are not NICs of the machine. */
function physicalNics(interfaces: Nic[]): Inventory["nics"] {
  const typed = interfaces.some((nic) => nic.EthernetInterfaceType !== undefined);
  return interfaces
    .filter((nic) => !typed || nic.EthernetInterfaceType === "Physical")
    .map((nic) => ({
      id: nic.Id,
      macAddress: nic.MACAddress,
      speedMbps: nic.SpeedMbps,
      ipv4: (nic.IPv4Addresses ?? []).flatMap((a) => (a.Address === undefined ? [] : [a.Address])),
    }));
}

function archOf(architecture: string): Inventory["arch"] {
  if (/x86|x64/i.test(architecture)) return "x86_64";
  if (/arm|aarch/i.test(architecture)) return "aarch64";
  if (/risc/i.test(architecture)) return "riscv64";
  return "unknown";
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
