import { sleep, type Exchange } from "./client.js";
import { RedfishHttpError, RedfishNetworkError, type NoAnswer } from "./errors.js";
import type { PowerOptions, RedfishSystem, VirtualMedia } from "./system.js";

/**
 * One step of a sequence. `run` first looks, then acts only if the machine is not already where
 * the step takes it: a step run again after a crash sends nothing twice. It answers the status of
 * the request that changed something, or undefined when nothing needed changing.
 */
export interface Step {
  name: string;
  /** `startedAt` is when the step first began (epoch ms), kept across restarts by the caller. */
  run(startedAt: number): Promise<number | undefined>;
}

export interface WipeOptions {
  /** The provider's wipe image, booted after every lease. */
  image: string;
  /** How long the wipe may run before the node is powered off regardless. */
  timeoutMs: number;
}

export interface SequenceOptions {
  power?: PowerOptions;
  /** How often to look whether the wipe image powered the node off. */
  wipePollMs?: number;
}

/** A system, or how to reach it when a step first needs it (the BMC may be down when steps are planned). */
export type SystemSource = RedfishSystem | (() => Promise<RedfishSystem>);

/** Boots a node into a lease's image: off, empty drive, image in, boot once from CD, on. */
export function startSequence(source: SystemSource, image: string, options: SequenceOptions = {}): Step[] {
  const system = systemOf(source);
  const cd = virtualCdOf(system);
  return [
    { name: "power-off", run: async () => (await system()).setPower("Off", options.power) },
    { name: "eject-media", run: async () => (await system()).ejectMedia(await cd()) },
    { name: "insert-image", run: async () => (await system()).insertMedia(await cd(), image) },
    { name: "boot-once-cd", run: async () => (await system()).setBootOnce("Cd") },
    { name: "power-on", run: async () => (await system()).setPower("On", options.power) },
  ];
}

/**
 * Takes a node back after a lease: off, drive emptied, then (with a wipe image) booted into the
 * wipe image until it powers itself off or the wipe times out, and left off with an empty drive.
 */
export function endSequence(
  source: SystemSource,
  wipe: WipeOptions | undefined,
  options: SequenceOptions = {},
): Step[] {
  const system = systemOf(source);
  const cd = virtualCdOf(system);
  const steps: Step[] = [
    { name: "power-off", run: async () => (await system()).setPower("Off", options.power) },
    { name: "eject-media", run: async () => (await system()).ejectMedia(await cd()) },
  ];
  if (wipe === undefined) return steps;
  return [
    ...steps,
    { name: "insert-wipe-image", run: async () => (await system()).insertMedia(await cd(), wipe.image) },
    { name: "boot-once-cd", run: async () => (await system()).setBootOnce("Cd") },
    { name: "power-on-wipe", run: async () => (await system()).setPower("On", options.power) },
    {
      name: "wipe",
      run: async (startedAt) => {
        // The wipe image powers the node off when it is done; give it until the timeout.
        while (Date.now() < startedAt + wipe.timeoutMs && (await (await system()).powerState()) !== "Off") {
          await sleep(Math.min(options.wipePollMs ?? 1_000, Math.max(0, startedAt + wipe.timeoutMs - Date.now())));
        }
        return undefined;
      },
    },
    { name: "power-off-after-wipe", run: async () => (await system()).setPower("Off", options.power) },
    { name: "eject-wipe-image", run: async () => (await system()).ejectMedia(await cd()) },
  ];
}

/** What one step did, for an operator reading a summary. */
export interface StepReport {
  step: string;
  result: "done" | "unchanged" | "failed";
  /** Status of the request that changed the machine; absent when nothing needed changing. */
  status?: number;
  requests: Exchange[];
  ms: number;
  error?: string;
  /** A failed step's HTTP status, or why its request got no answer. */
  failedWith?: { status: number } | { noAnswer: NoAnswer };
  /** The BMC's own words about the failure: `error.message` and `@Message.ExtendedInfo`. */
  bmcMessages?: string[];
}

/** Runs `steps` in order, stopping at the first that fails, and reports each. */
export async function runSteps(system: RedfishSystem, steps: Step[]): Promise<{ ok: boolean; steps: StepReport[] }> {
  const reports: StepReport[] = [];
  const previous = system.client.onExchange;
  let requests: Exchange[] = [];
  system.client.onExchange = (exchange) => {
    requests.push(exchange);
    previous?.(exchange);
  };
  try {
    for (const step of steps) {
      requests = [];
      const startedAt = Date.now();
      try {
        const status = await step.run(startedAt);
        reports.push({
          step: step.name,
          result: status === undefined ? "unchanged" : "done",
          ...(status === undefined ? {} : { status }),
          requests,
          ms: Date.now() - startedAt,
        });
      } catch (error) {
        reports.push({
          step: step.name,
          result: "failed",
          requests,
          ms: Date.now() - startedAt,
          error: error instanceof Error ? error.message : String(error),
          ...failureOf(error),
        });
        return { ok: false, steps: reports };
      }
    }
    return { ok: true, steps: reports };
  } finally {
    system.client.onExchange = previous;
  }
}

function failureOf(error: unknown): Pick<StepReport, "failedWith" | "bmcMessages"> {
  if (error instanceof RedfishNetworkError) return { failedWith: { noAnswer: error.noAnswer } };
  if (!(error instanceof RedfishHttpError)) return {};
  const { bmcMessages } = error;
  return { failedWith: { status: error.status }, ...(bmcMessages.length === 0 ? {} : { bmcMessages }) };
}

function systemOf(source: SystemSource): () => Promise<RedfishSystem> {
  return typeof source === "function" ? source : async () => source;
}

/** Finds the virtual CD once per sequence; every media step reuses it. */
function virtualCdOf(system: () => Promise<RedfishSystem>): () => Promise<VirtualMedia> {
  let found: Promise<VirtualMedia> | undefined;
  return () => {
    found ??= system()
      .then((s) => s.virtualCd())
      .catch((error: unknown) => {
        found = undefined;
        throw error;
      });
    return found;
  };
}
