import { afterEach, describe, expect, it } from "vitest";

import { SimulatedBmc, type BmcOptions } from "../../oracle/bmc-sim/bmc.js";
import { RedfishClient } from "../../oracle/redfish/index.js";
import { BMC_PASSWORD, BMC_USER, LEASE_IMAGE } from "../helpers/agent.js";
import { checkService } from "./conformance/check.js";

const bmcs: SimulatedBmc[] = [];

async function bmcWith(options: Partial<BmcOptions> = {}): Promise<SimulatedBmc> {
  const bmc = new SimulatedBmc({ index: 5, username: BMC_USER, password: BMC_PASSWORD, ...options });
  await bmc.listen();
  bmcs.push(bmc);
  return bmc;
}

const check = (bmc: SimulatedBmc, brokenLinks?: string[]) =>
  checkService({ url: bmc.url, username: BMC_USER, password: BMC_PASSWORD, brokenLinks });

afterEach(async () => {
  await Promise.all(bmcs.splice(0).map((bmc) => bmc.close()));
});

describe("the BMC simulator, checked against DSP0266", () => {
  it.each<[string, Partial<BmcOptions>]>([
    ["as shipped", {}],
    ["with virtual media under the Manager", { behaviour: { virtualMedia: "manager" } }],
    ["without sessions", { behaviour: { sessions: "absent" } }],
    ["with one socket and a UsbCd", { hardware: { sockets: 1 }, behaviour: { cdBootTarget: "UsbCd" } }],
    [
      "strict as SuperMicro",
      { behaviour: { requireIfMatch: true, insertMediaImageOnly: true, reportsHostIpv4: false } },
    ],
    ["without an EventService", { behaviour: { eventService: "absent" } }],
  ])("breaks no rule a client depends on, %s", async (_, options) => {
    const bmc = await bmcWith(options);
    const { violations, visited } = await check(bmc);
    expect(violations).toEqual([]);
    // The whole tree, not just the root: the mockup has some 270 resources.
    expect(visited.length).toBeGreaterThan(200);
  });

  it("breaks no rule while a task runs and a session is open", async () => {
    const bmc = await bmcWith({ behaviour: { mediaTaskMs: 60_000 } });
    const client = new RedfishClient({ url: bmc.url, credentials: { username: BMC_USER, password: BMC_PASSWORD } });
    try {
      await client.get("/redfish/v1/Systems");
      const insert = `/redfish/v1/Systems/${bmc.systemId}/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia`;
      expect((await client.request("POST", insert, { Image: LEASE_IMAGE })).status).toBe(202);
      const { violations, visited } = await check(bmc);
      expect(violations).toEqual([]);
      expect(visited).toEqual(expect.arrayContaining(["/redfish/v1/TaskService/Tasks/1001"]));
      expect(visited.filter((path) => path.startsWith("/redfish/v1/SessionService/Sessions/"))).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("breaks only the links a fault breaks on purpose", async () => {
    const bmc = await bmcWith();
    bmc.faults.notFound = ["Memory", "Processors/CPU2"];
    const system = `/redfish/v1/Systems/${bmc.systemId}`;
    const { violations } = await check(bmc, [`${system}/Memory`, `${system}/Processors/CPU2`]);
    expect(violations).toEqual([]);
  });

  it("finds what it checks for: a fault's broken link is reported with its URL", async () => {
    const bmc = await bmcWith();
    bmc.faults.notFound = ["Memory"];
    const { violations } = await check(bmc);
    expect(violations).toEqual([
      {
        url: `/redfish/v1/Systems/${bmc.systemId}/Memory`,
        rule: "link-resolves",
        detail: `linked from /redfish/v1/Systems/${bmc.systemId}, answered 404`,
      },
    ]);
  });
});
