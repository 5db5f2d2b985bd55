import { linkOf, membersOf, sleep, type Answer, type RedfishClient, type RedfishDocument } from "./client.js";
import { RedfishHttpError, RedfishTimeoutError, RedfishUnsupportedError, isTransient } from "./errors.js";
import { readAddress, readSystemInventory, type AddressCheck, type Inventory } from "./inventory.js";

export type PowerTarget = "On" | "Off";

export interface BootOverride {
  target: string;
  enabled: string;
  mode: string | undefined;
}

export interface VirtualMedia {
  path: string;
  image: string | null;
  inserted: boolean;
}

export interface PowerOptions {
  timeoutMs?: number;
  pollMs?: number;
}

const CD_MEDIA_TYPES = new Set(["CD", "DVD"]);
/** Boot targets that stand for another where a BMC lists only them: SuperMicro's virtual CD is `UsbCd` (as sushy knows). */
const BOOT_TARGET_STAND_INS: Record<string, string[]> = { Cd: ["UsbCd"] };
/** InsertMedia parameters that are optional and that some BMCs (SuperMicro X11/X12) refuse. */
const OPTIONAL_INSERT_FIELDS = { Inserted: true, WriteProtected: true } as const;
/** The status a change reports when its own answer was lost and a read showed it applied. */
const SEEN_APPLIED = 200;
const RESET = "#ComputerSystem.Reset";
/** Reset types to reach each power state, best first. */
const RESETS_FOR: Record<PowerTarget, string[]> = {
  On: ["On", "ForceOn", "PushPowerButton"],
  Off: ["ForceOff", "PushPowerButton"],
};

/** One ComputerSystem behind a BMC: power, boot override, virtual media and inventory. */
export class RedfishSystem {
  private constructor(
    readonly client: RedfishClient,
    readonly path: string,
  ) {}

  /** Finds the system: by id, or the only one when the BMC manages just one. */
  static async open(client: RedfishClient, systemId?: string): Promise<RedfishSystem> {
    const root = await client.get("/redfish/v1/");
    const collection = linkOf(root, "Systems");
    if (collection === undefined) throw new RedfishUnsupportedError("the BMC lists no Systems");
    const members = membersOf(await client.get(collection));
    const path =
      systemId === undefined
        ? members.length === 1
          ? members[0]
          : undefined
        : members.find((member) => member.replace(/\/$/, "").endsWith(`/${systemId}`));
    if (path === undefined) {
      throw new RedfishUnsupportedError(
        systemId === undefined
          ? `the BMC manages ${members.length} systems: name one`
          : `the BMC has no system ${systemId}`,
      );
    }
    return new RedfishSystem(client, path);
  }

  read(): Promise<RedfishDocument> {
    return this.client.get(this.path);
  }

  async powerState(): Promise<string> {
    return String((await this.read()).PowerState ?? "Unknown");
  }

  /** The reset types the BMC allows, from the action's annotation or its ActionInfo. */
  async resetTypes(system?: RedfishDocument): Promise<{ target: string; allowed: string[] }> {
    const action = ((system ?? (await this.read())).Actions as Record<string, Record<string, unknown>> | undefined)?.[
      RESET
    ];
    const target = action?.target;
    if (typeof target !== "string") throw new RedfishUnsupportedError("the system has no ComputerSystem.Reset action");
    let allowed = action?.["ResetType@Redfish.AllowableValues"];
    const info = action?.["@Redfish.ActionInfo"];
    if (allowed === undefined && typeof info === "string") {
      const parameters = (await this.client.get(info)).Parameters as
        { Name?: string; AllowableValues?: string[] }[] | undefined;
      allowed = parameters?.find((p) => p.Name === "ResetType")?.AllowableValues;
    }
    return { target, allowed: Array.isArray(allowed) ? allowed.map(String) : [] };
  }

  /** Sends `ComputerSystem.Reset`, refusing a type the BMC does not list. */
  async reset(resetType: string, system?: RedfishDocument): Promise<Answer> {
    const { target, allowed } = await this.resetTypes(system);
    if (allowed.length > 0 && !allowed.includes(resetType)) {
      throw new RedfishUnsupportedError(`reset type ${resetType} is not one of ${allowed.join(", ")}`);
    }
    return this.client.post(target, { ResetType: resetType });
  }

  /**
   * Brings the power to `target` and waits until the BMC reports it. Sends nothing when it is
   * there or on its way; answers the reset's status, or undefined when none was needed.
   */
  async setPower(target: PowerTarget, options: PowerOptions = {}): Promise<number | undefined> {
    const system = await this.read();
    const state = String(system.PowerState);
    let status: number | undefined;
    if (!reaching(state, target)) {
      const { allowed } = await this.resetTypes(system);
      const resetType = RESETS_FOR[target].find((type) => allowed.length === 0 || allowed.includes(type));
      if (resetType === undefined) throw new RedfishUnsupportedError(`no reset type reaches power ${target}`);
      // Never twice: a second PushPowerButton would turn the machine back.
      status = await this.#once(
        async () => (await this.reset(resetType, system)).status,
        async () => reaching(await this.powerState(), target),
      );
    }
    await this.waitForPower(target, options);
    return status;
  }

  /** Polls `PowerState` until it is `target`. */
  async waitForPower(target: PowerTarget, { timeoutMs = 120_000, pollMs = 1_000 }: PowerOptions = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.powerState();
      if (state === target) return;
      if (Date.now() >= deadline)
        throw new RedfishTimeoutError(`power stayed ${state}, not ${target}, for ${timeoutMs} ms`);
      await sleep(pollMs);
    }
  }

  async bootOverride(system?: RedfishDocument): Promise<BootOverride> {
    const boot = ((system ?? (await this.read())).Boot ?? {}) as Record<string, unknown>;
    return {
      target: String(boot.BootSourceOverrideTarget ?? "None"),
      enabled: String(boot.BootSourceOverrideEnabled ?? "Disabled"),
      mode: typeof boot.BootSourceOverrideMode === "string" ? boot.BootSourceOverrideMode : undefined,
    };
  }

  /**
   * Sets a one-time boot from `target`, checked against the BMC's allowable values, keeping the
   * boot mode (UEFI or Legacy) unless `mode` is given. Answers the PATCH status, or undefined
   * when the override was already set.
   */
  async setBootOnce(wanted: string, mode?: string): Promise<number | undefined> {
    const system = await this.read();
    const boot = (system.Boot ?? {}) as Record<string, unknown>;
    const target = allowedOrStandIn(boot, "BootSourceOverrideTarget", wanted);
    if (mode !== undefined) checkAllowed(boot, "BootSourceOverrideMode", mode);
    const isSet = (current: BootOverride) =>
      current.target === target && current.enabled === "Once" && (mode === undefined || current.mode === mode);
    if (isSet(await this.bootOverride(system))) return undefined;
    const change: Record<string, string> = { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: "Once" };
    if (mode !== undefined) change.BootSourceOverrideMode = mode;
    return this.#once(
      async () => (await this.client.patch(this.path, { Boot: change })).status,
      async () => isSet(await this.bootOverride()),
    );
  }

  /** The virtual CD or DVD drive: under the System, or under a Manager of it (older BMCs). */
  async virtualCd(): Promise<VirtualMedia> {
    const system = await this.read();
    const collections = [linkOf(system, "VirtualMedia")];
    const managers = ((system.Links as Record<string, unknown> | undefined)?.ManagedBy ?? []) as {
      "@odata.id"?: string;
    }[];
    for (const manager of managers) {
      if (manager["@odata.id"] !== undefined)
        collections.push(linkOf(await this.client.get(manager["@odata.id"]), "VirtualMedia"));
    }
    for (const collection of collections) {
      if (collection === undefined) continue;
      for (const member of membersOf(await this.client.get(collection))) {
        const media = await this.client.get(member);
        const types = Array.isArray(media.MediaTypes) ? media.MediaTypes.map(String) : [];
        if (types.some((type) => CD_MEDIA_TYPES.has(type))) return mediaOf(member, media);
      }
    }
    throw new RedfishUnsupportedError("the BMC offers no virtual CD or DVD drive");
  }

  async readMedia(path: string): Promise<VirtualMedia> {
    return mediaOf(path, await this.client.get(path));
  }

  /** Ejects the drive's media; answers the status, or undefined when it was empty. */
  async ejectMedia(media: VirtualMedia): Promise<number | undefined> {
    const current = await this.readMedia(media.path);
    if (!current.inserted) return undefined;
    const action = await this.#action(media.path, "#VirtualMedia.EjectMedia");
    return this.#once(
      async () =>
        action !== undefined
          ? (await this.client.post(action, {})).status
          : (await this.client.patch(media.path, { Image: null, Inserted: false })).status,
      async () => !(await this.readMedia(media.path)).inserted,
    );
  }

  /**
   * Inserts `image` (a URL the BMC fetches); answers the status, or undefined when it was already
   * in. A BMC that refuses the optional `Inserted`/`WriteProtected` (400) is asked once more without them.
   */
  async insertMedia(media: VirtualMedia, image: string): Promise<number | undefined> {
    const current = await this.readMedia(media.path);
    if (current.inserted && current.image === image) return undefined;
    const action = await this.#action(media.path, "#VirtualMedia.InsertMedia");
    const insert = async (): Promise<number> => {
      if (action === undefined) {
        return (await this.client.patch(media.path, { Image: image, ...OPTIONAL_INSERT_FIELDS })).status;
      }
      try {
        return (await this.client.post(action, { Image: image, ...OPTIONAL_INSERT_FIELDS })).status;
      } catch (error) {
        if (!(error instanceof RedfishHttpError && error.status === 400)) throw error;
        return (await this.client.post(action, { Image: image })).status;
      }
    };
    return this.#once(insert, async () => {
      const now = await this.readMedia(media.path);
      return now.inserted && now.image === image;
    });
  }

  /** The machine's cores, memory, disks and NICs; parts the BMC does not give are unknown, not fatal. */
  inventory(): Promise<Inventory> {
    return readSystemInventory(this.client, this.path);
  }

  /** Whether the machine's IPv4 can be learned from the BMC (its EthernetInterfaces), and which. */
  address(): Promise<AddressCheck> {
    return readAddress(this.client, this.path);
  }

  /** The chassis' power draw in watts, where the BMC reports it. */
  async powerDraw(): Promise<number | undefined> {
    const system = await this.read();
    const chassis = ((system.Links as Record<string, unknown> | undefined)?.Chassis ?? []) as {
      "@odata.id"?: string;
    }[];
    const first = chassis[0]?.["@odata.id"];
    if (first === undefined) return undefined;
    const document = await this.client.get(first);
    const metrics = linkOf(document, "EnvironmentMetrics");
    if (metrics !== undefined) {
      const reading = ((await this.client.get(metrics)).PowerWatts as { Reading?: unknown } | undefined)?.Reading;
      if (typeof reading === "number") return reading;
    }
    const power = linkOf(document, "Power");
    if (power === undefined) return undefined;
    const controls = (await this.client.get(power)).PowerControl as { PowerConsumedWatts?: unknown }[] | undefined;
    const consumed = controls?.[0]?.PowerConsumedWatts;
    return typeof consumed === "number" ? consumed : undefined;
  }

  /**
   * Sends a change that must not go twice (an action; a PATCH without an ETag). When its answer
   * leaves open whether the BMC acted (a 5xx, no answer, or a 409 "in use" that may be its own
   * doing), it reads the state and accepts what shows the change; otherwise the error stands, and
   * the step, which looks before it acts, decides whether to send it again.
   */
  async #once(send: () => Promise<number>, applied: () => Promise<boolean>): Promise<number> {
    try {
      return await send();
    } catch (error) {
      const unknownOutcome = isTransient(error) || (error instanceof RedfishHttpError && error.status === 409);
      if (!unknownOutcome || !(await applied().catch(() => false))) throw error;
      return SEEN_APPLIED;
    }
  }

  async #action(path: string, name: string): Promise<string | undefined> {
    const actions = (await this.client.get(path)).Actions as Record<string, { target?: unknown }> | undefined;
    const target = actions?.[name]?.target;
    return typeof target === "string" ? target : undefined;
  }
}

function checkAllowed(boot: Record<string, unknown>, property: string, value: string): void {
  const allowed = boot[`${property}@Redfish.AllowableValues`];
  if (Array.isArray(allowed) && !allowed.includes(value)) {
    throw new RedfishUnsupportedError(`${property} ${value} is not one of ${allowed.join(", ")}`);
  }
}

/** `value` when the BMC allows it, else the first allowed stand-in for it (`UsbCd` for `Cd`). */
function allowedOrStandIn(boot: Record<string, unknown>, property: string, value: string): string {
  const allowed = boot[`${property}@Redfish.AllowableValues`];
  const standIn = Array.isArray(allowed)
    ? BOOT_TARGET_STAND_INS[value]?.find((candidate) => !allowed.includes(value) && allowed.includes(candidate))
    : undefined;
  if (standIn !== undefined) return standIn;
  checkAllowed(boot, property, value);
  return value;
}

/** Whether a power state is `target` or on its way there. */
function reaching(state: string, target: PowerTarget): boolean {
  return state === target || state === `Powering${target}`;
}

function mediaOf(path: string, media: RedfishDocument): VirtualMedia {
  return { path, image: typeof media.Image === "string" ? media.Image : null, inserted: media.Inserted === true };
}
