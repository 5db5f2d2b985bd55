import { SimulatedBmc, type BmcOptions } from "./bmc.js";

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
