import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { SimulatedBmc } from "../../oracle/bmc-sim/bmc.js";
import { AGENT, closeMarket, openMarket, type Market } from "./helpers.js";

const BMC = { username: "metal", password: "bmc password for the enrolment test" };

interface Node {
  nodeId: number;
  resources: { cores: number; memoryGiB: number; storageGB: number; networkGbps: number };
  attributes: string;
  agent: string;
}

describe("enrolling a node from its BMC", () => {
  let m: Market;
  let bmc: SimulatedBmc;

  beforeAll(async () => {
    m = await openMarket();
    bmc = new SimulatedBmc({ index: 42, ...BMC, hardware: { sockets: 1, coresPerSocket: 12, memoryGiB: 128 } });
    await bmc.listen();
  });
  afterAll(async () => {
    await bmc.close();
    await closeMarket(m);
  });

  it("registers the machine with the profile its BMC reports, and nothing that locates it", async () => {
    const enrolled = await m.seller.client.post<{ node: Node }>("/nodes/enroll", {
      bmcUrl: bmc.url,
      ...BMC,
      agent: AGENT,
    });
    expect(enrolled.status).toBe(201);
    expect(enrolled.body.node).toMatchObject({
      resources: { cores: 12, memoryGiB: 128, networkGbps: 10 },
      agent: AGENT,
    });
    expect(enrolled.body.node.attributes).toBe("vendor=Contoso;model=3500;threads=24;nics=2");
    expect(JSON.stringify(enrolled.body)).not.toContain(new URL(bmc.url).port);
  });

  it("answers a BMC that refuses the credentials with a problem naming the BMC, and registers nothing", async () => {
    const before = (await m.admin.must<{ nodes: Node[] }>("GET", "/nodes")).nodes.length;
    const refused = await m.seller.client.post<{ field: string; status: number; detail: string }>("/nodes/enroll", {
      bmcUrl: bmc.url,
      username: BMC.username,
      password: "wrong",
      agent: AGENT,
    });
    expect(refused.status).toBe(502);
    expect(refused.body.field).toBe("body.bmcUrl");
    expect(refused.body.detail).not.toContain("wrong");
    expect((await m.admin.must<{ nodes: Node[] }>("GET", "/nodes")).nodes).toHaveLength(before);
  });
});
