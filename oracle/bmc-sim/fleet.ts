import { SimulatedBmc, type BmcOptions, type Hardware } from "./bmc.js";

/**
 * Machines of different sizes, for a fleet that looks like a real rack: a small 1U box, the DMTF
 * reference server, and a big two-socket machine. `mixedSizes` cycles through them.
 */
export const MACHINE_SIZES: readonly Partial<Hardware>[] = [
  { sockets: 1, coresPerSocket: 4, memoryGiB: 16, disksGB: [480], nicSpeedMbps: 1_000, watts: 120 },
  {},
  { sockets: 2, coresPerSocket: 32, memoryGiB: 512, disksGB: [3840, 3840], nicSpeedMbps: 25_000, watts: 780 },
];

export function mixedSizes(index: number): Partial<Hardware> {
  return MACHINE_SIZES[(index - 1) % MACHINE_SIZES.length] ?? {};
}

/** What every BMC of a fleet shares; `hardware` may vary per machine. */
export type FleetOptions = Omit<BmcOptions, "index" | "systemId" | "hardware"> & {
  count: number;
  /** The machines' hardware, by index; defaults to the mockup's. */
  hardware?: (index: number) => BmcOptions["hardware"];
  /** Index of the first machine, so that fleets started side by side differ in MAC and IP. */
  firstIndex?: number;
};

/** A fleet of simulated BMCs, each on its own port as real ones are each on their own address. */
export class BmcFleet {
  private constructor(readonly bmcs: readonly SimulatedBmc[]) {}

  static async start(options: FleetOptions): Promise<BmcFleet> {
    const { count, hardware, firstIndex = 1, ...shared } = options;
    const bmcs = Array.from({ length: count }, (_, i) => {
      const index = firstIndex + i;
      return new SimulatedBmc({ ...shared, index, hardware: hardware?.(index) });
    });
    const fleet = new BmcFleet(bmcs);
    try {
      await Promise.all(bmcs.map((bmc) => bmc.listen()));
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  /** The fleet's `index`-th BMC, counting from 0. */
  bmc(index: number): SimulatedBmc {
    const bmc = this.bmcs[index];
    if (bmc === undefined) throw new Error(`the fleet has ${this.bmcs.length} BMCs, not ${index + 1}`);
    return bmc;
  }

  /** Every request any BMC of the fleet has answered. */
  requestCount(): number {
    return this.bmcs.reduce((sum, bmc) => sum + bmc.requests.length, 0);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.bmcs.map((bmc) => bmc.close()));
  }
}
