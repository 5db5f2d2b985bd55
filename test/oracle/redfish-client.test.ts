import { afterEach, describe, expect, it } from "vitest";

import { IncompleteInventoryError, enrollmentWarnings, resourcesOf } from "../../oracle/agent/enroll.js";
import { SimulatedBmc, type BmcFaults, type BmcOptions } from "../../oracle/bmc-sim/bmc.js";
import { selfSignedTls } from "../../oracle/bmc-sim/tls.js";
import {
  RedfishClient,
  RedfishError,
  RedfishHttpError,
  RedfishNetworkError,
  RedfishSystem,
  RedfishTimeoutError,
  RedfishUnsupportedError,
  endSequence,
  readInventory,
  runSteps,
  startSequence,
  type RedfishClientOptions,
} from "../../oracle/redfish/index.js";
import { freePort } from "../../scripts/lib/free-port.js";
import { BMC_PASSWORD, BMC_USER, LEASE_IMAGE } from "../helpers/agent.js";

const opened: { close(): Promise<void> | void }[] = [];

async function bmcWith(options: Partial<BmcOptions> = {}): Promise<SimulatedBmc> {
  const bmc = new SimulatedBmc({ index: 7, username: BMC_USER, password: BMC_PASSWORD, ...options });
  await bmc.listen();
  opened.push(bmc);
  return bmc;
}

function clientOf(bmc: SimulatedBmc, options: Partial<RedfishClientOptions> = {}): RedfishClient {
  const client = new RedfishClient({
    url: bmc.url,
    credentials: { username: BMC_USER, password: BMC_PASSWORD },
    retry: { retries: 2, backoffMs: 5 },
    timeoutMs: 2_000,
    ...options,
  });
  opened.push(client);
  return client;
}

type LostAnswer = NonNullable<BmcFaults["afterApplying"]>["answer"];

/** How many requests reached the BMC at a path ending so, e.g. `InsertMedia`. */
const reached = (bmc: SimulatedBmc, method: string, pathEnd: string) =>
  bmc.requests.filter((r) => r.method === method && r.path.endsWith(pathEnd)).length;

const inventoryOf = (bmc: SimulatedBmc) =>
  readInventory({ url: bmc.url, credentials: { username: BMC_USER, password: BMC_PASSWORD } });

const changes = (bmc: SimulatedBmc) =>
  bmc.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.status}`);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
});

describe("the Redfish client", () => {
  it("logs in with a session, sends its token, and deletes the session on close", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc);
    await client.get("/redfish/v1/Systems");
    expect(client.authMode).toBe("session");
    expect(bmc.sessionCount).toBe(1);
    await client.close();
    expect(bmc.sessionCount).toBe(0);
    expect(changes(bmc)).toEqual(["POST 201", "DELETE 204"]);
  });

  it("falls back to Basic auth on a BMC without sessions", async () => {
    const bmc = await bmcWith({ behaviour: { sessions: "absent" } });
    const client = clientOf(bmc);
    expect((await client.get("/redfish/v1/Systems"))["Members@odata.count"]).toBe(1);
    expect(client.authMode).toBe("basic");
  });

  it.each([401, 403] as const)(
    "falls back to Basic auth when the BMC answers %d to the session login",
    async (refusal) => {
      const bmc = await bmcWith({ behaviour: { sessions: refusal } });
      const client = clientOf(bmc);
      expect((await client.get("/redfish/v1/Systems"))["Members@odata.count"]).toBe(1);
      await client.get(`/redfish/v1/Systems/${bmc.systemId}`);
      expect(client.authMode).toBe("basic");
      // One refused login, then every request with Basic: no login per request.
      expect(bmc.requests.filter((r) => r.path.endsWith("/Sessions")).map((r) => r.status)).toEqual([refusal]);
      expect(bmc.requests.filter((r) => r.status === 401 || r.status === 403)).toHaveLength(1);
    },
  );

  it("provisions, releases, reads the inventory of and enrolls a BMC that refuses session logins", async () => {
    const bmc = await bmcWith({ behaviour: { sessions: 401 } });
    const system = await RedfishSystem.open(clientOf(bmc));
    const power = { power: { pollMs: 10 } };
    const started = await runSteps(system, startSequence(system, LEASE_IMAGE, power));
    expect(started.ok).toBe(true);
    expect(bmc.boots.at(-1)).toEqual({ target: "Cd", image: LEASE_IMAGE });
    expect((await runSteps(system, endSequence(system, undefined, power))).ok).toBe(true);
    expect(bmc.powerState).toBe("Off");
    expect(bmc.cd.inserted).toBe(false);

    const inventory = await readInventory({
      url: bmc.url,
      credentials: { username: BMC_USER, password: BMC_PASSWORD },
    });
    expect(resourcesOf(inventory)).toMatchObject({ cores: 16, memoryGiB: 96, storageGB: 12_000 });
  });

  it("says the credentials are wrong when the BMC refuses both the session login and Basic", async () => {
    const bmc = await bmcWith({ behaviour: { sessions: 401 } });
    const client = clientOf(bmc, { credentials: { username: BMC_USER, password: "wrong" } });
    const error = (await client.get("/redfish/v1/Systems").catch((e: unknown) => e)) as RedfishHttpError;
    expect(error).toBeInstanceOf(RedfishHttpError);
    expect(error.status).toBe(401);
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/refused the session login too \(401\): check the credentials/);
    expect(bmc.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "POST 401", "GET 401"]);
  });

  it("logs in again when the BMC forgets its session", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc);
    await client.get("/redfish/v1/Systems");
    bmc.expireSessions();
    await client.get("/redfish/v1/Systems");
    expect(bmc.requests.map((r) => r.status)).toContain(401);
    expect(bmc.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([201, 201]);
  });

  it("refuses wrong credentials with a final error, without retrying", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc, { credentials: { username: BMC_USER, password: "wrong" } });
    const error = await client.get("/redfish/v1/Systems").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedfishHttpError);
    expect((error as RedfishHttpError).status).toBe(401);
    expect((error as RedfishHttpError).transient).toBe(false);
    expect(bmc.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(String((error as Error).message)).not.toContain("wrong");
  });

  it("retries 503s and dropped connections, but not 4xx answers", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc);
    await client.get("/redfish/v1/Systems");
    bmc.faults = { failNext: 1, dropNext: 1 };
    await client.get("/redfish/v1/Systems");
    const unknown = await client.get("/redfish/v1/Systems/nope").catch((e: unknown) => e);
    expect((unknown as RedfishHttpError).status).toBe(404);
    expect(bmc.requests.filter((r) => r.path === "/redfish/v1/Systems/nope")).toHaveLength(1);
  });

  it.each([503, "drop"] as const)(
    "sends an action once when its answer is lost (%s), where a read is retried",
    async (answer) => {
      const bmc = await bmcWith();
      const client = clientOf(bmc);
      const reset = `/redfish/v1/Systems/${bmc.systemId}/Actions/ComputerSystem.Reset`;
      bmc.faults = { afterApplying: { count: 1, answer } };
      const error = await client.post(reset, { ResetType: "PushPowerButton" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(answer === "drop" ? RedfishNetworkError : RedfishHttpError);
      expect(reached(bmc, "POST", "/ComputerSystem.Reset")).toBe(1);
      // The button was pushed once: the machine is on, not toggled back off.
      expect(bmc.powerState).toBe("On");
      bmc.faults = answer === "drop" ? { dropNext: 1 } : { failNext: 1 };
      await client.get("/redfish/v1/Systems");
      expect(reached(bmc, "GET", "/redfish/v1/Systems")).toBe(2);
    },
  );

  it.each([500, "drop", "hang"] as const satisfies LostAnswer[])(
    "inserts the image with one InsertMedia when the BMC acts but its answer is lost (%s)",
    async (answer) => {
      const bmc = await bmcWith();
      const system = await RedfishSystem.open(clientOf(bmc, { timeoutMs: 300 }));
      const cd = await system.virtualCd();
      bmc.faults = { afterApplying: { count: 1, answer } };
      expect(await system.insertMedia(cd, LEASE_IMAGE)).toBe(200);
      expect(bmc.cd).toEqual({ image: LEASE_IMAGE, inserted: true });
      expect(reached(bmc, "POST", "/VirtualMedia.InsertMedia")).toBe(1);
    },
  );

  it.each([500, "hang"] as const satisfies LostAnswer[])(
    "powers on with one Reset when the BMC acts but its answer is lost (%s)",
    async (answer) => {
      const bmc = await bmcWith({ behaviour: { powerTransitionMs: 30 } });
      const system = await RedfishSystem.open(clientOf(bmc, { timeoutMs: 300 }));
      bmc.faults = { afterApplying: { count: 1, answer } };
      expect(await system.setPower("On", { pollMs: 10, timeoutMs: 2_000 })).toBe(200);
      expect(bmc.powerState).toBe("On");
      expect(reached(bmc, "POST", "/ComputerSystem.Reset")).toBe(1);
      expect(bmc.boots).toHaveLength(1);
    },
  );

  it("leaves an action the BMC did not apply to the step, which looks again before it sends", async () => {
    const bmc = await bmcWith();
    const system = await RedfishSystem.open(clientOf(bmc));
    const cd = await system.virtualCd();
    let refused = false;
    bmc.onRequest = ({ method }) => {
      if (method === "POST" && !refused) {
        refused = true;
        bmc.faults = { failNext: 1 };
      }
    };
    const error = (await system.insertMedia(cd, LEASE_IMAGE).catch((e: unknown) => e)) as RedfishHttpError;
    expect([error.status, error.transient]).toEqual([503, true]);
    expect(bmc.cd.inserted).toBe(false);
    expect(reached(bmc, "POST", "/VirtualMedia.InsertMedia")).toBe(1);
    // The step tried again: it reads, sees no image, and inserts it.
    expect(await system.insertMedia(cd, LEASE_IMAGE)).toBe(204);
    expect(reached(bmc, "POST", "/VirtualMedia.InsertMedia")).toBe(2);
    expect(await system.insertMedia(cd, LEASE_IMAGE)).toBeUndefined();
  });

  it("gives up after its bounded retries, with a network error", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc);
    await client.get("/redfish/v1/Systems");
    bmc.faults = { dropNext: 10 };
    await expect(client.get("/redfish/v1/Systems")).rejects.toBeInstanceOf(RedfishNetworkError);
    expect(bmc.requests.filter((r) => r.status === 0)).toHaveLength(3);
  });

  it("times out a BMC that does not answer", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc, { timeoutMs: 50, retry: { retries: 0 } });
    bmc.faults = { latencyMs: 300 };
    const error = await client.get("/redfish/v1/").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedfishNetworkError);
    expect(String((error as Error).message)).toMatch(/no answer within 50 ms/);
  });

  it("sends If-Match on PATCH and re-reads after a 412", async () => {
    const bmc = await bmcWith({ behaviour: { requireIfMatch: true } });
    const client = clientOf(bmc);
    const system = await RedfishSystem.open(client);
    // Someone else changes the system between our read and our PATCH, once.
    let interfered = false;
    bmc.onRequest = ({ method }) => {
      if (method === "PATCH" && !interfered) {
        interfered = true;
        bmc.setState({ power: "Off" });
      }
    };
    expect(await system.setBootOnce("Cd")).toBe(200);
    expect(bmc.requests.filter((r) => r.method === "PATCH").map((r) => r.status)).toEqual([412, 200]);
    expect(bmc.bootOverride).toEqual({ target: "Cd", enabled: "Once", mode: "UEFI" });
  });

  it("refuses a PATCH without If-Match on a strict BMC", async () => {
    const bmc = await bmcWith({ behaviour: { requireIfMatch: true } });
    const client = clientOf(bmc);
    const error = await client
      .request("PATCH", `/redfish/v1/Systems/${bmc.systemId}`, { Boot: { BootSourceOverrideTarget: "Cd" } })
      .catch((e: unknown) => e);
    expect((error as RedfishHttpError).status).toBe(428);
  });

  it("checks reset types and boot targets against the allowable values before sending", async () => {
    const bmc = await bmcWith();
    const system = await RedfishSystem.open(clientOf(bmc));
    await expect(system.reset("PowerCycle")).rejects.toBeInstanceOf(RedfishUnsupportedError);
    await expect(system.setBootOnce("Floppy")).rejects.toBeInstanceOf(RedfishUnsupportedError);
    expect(bmc.mutations().filter((m) => !m.includes("Sessions"))).toEqual([]);
  });

  it("reads the BMC's 400 answer naming the property at fault", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc);
    const error = (await client
      .request("PATCH", `/redfish/v1/Systems/${bmc.systemId}`, { Boot: { BootSourceOverrideTarget: "Floppy" } })
      .catch((e: unknown) => e)) as RedfishHttpError;
    expect(error.status).toBe(400);
    expect(error.has("PropertyValueNotInList")).toBe(true);
    expect(error.messages[0]?.RelatedProperties).toEqual(["#/Boot/BootSourceOverrideTarget"]);
  });

  it("keeps the BMC's error.message and every ExtendedInfo message in its errors and step summaries", async () => {
    const bmc = await bmcWith();
    const system = await RedfishSystem.open(clientOf(bmc));
    const image = "ftp://images.example/a.iso";
    const { ok, steps } = await runSteps(system, [
      { name: "insert-ftp-image", run: async () => system.insertMedia(await system.virtualCd(), image) },
    ]);
    expect(ok).toBe(false);
    const general = "A general error has occurred. See ExtendedInfo for more information.";
    const specific = `The value ${image} for the parameter Image in the action VirtualMedia.InsertMedia is of a different format than the parameter can accept.`;
    expect(steps[0]).toMatchObject({ failedWith: { status: 400 }, bmcMessages: [general, specific] });
    expect(steps[0]?.error).toContain(general);
    expect(steps[0]?.error).toContain(specific);
  });

  it("records requests that got no answer apart from HTTP errors, and why", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc, { timeoutMs: 50, retry: { retries: 0 } });
    const system = await RedfishSystem.open(client);
    bmc.faults = { latencyMs: 200 };
    const { steps } = await runSteps(system, [{ name: "read", run: async () => (await system.powerState()).length }]);
    expect(steps[0]).toMatchObject({
      result: "failed",
      failedWith: { noAnswer: "timeout" },
      requests: [{ method: "GET", path: system.path, noAnswer: "timeout" }],
    });

    const closed = new RedfishClient({
      url: `http://127.0.0.1:${await freePort()}`,
      credentials: { username: BMC_USER, password: BMC_PASSWORD },
      retry: { retries: 0 },
    });
    opened.push(closed);
    const refused = (await closed.get("/redfish/v1/").catch((e: unknown) => e)) as RedfishNetworkError;
    expect(refused).toBeInstanceOf(RedfishNetworkError);
    expect([refused.noAnswer, refused.unsent, refused.method, refused.path]).toEqual([
      "refused",
      true,
      "GET",
      "/redfish/v1/",
    ]);
  });

  it("inserts media without Inserted and WriteProtected where the BMC refuses them", async () => {
    const bmc = await bmcWith({ behaviour: { insertMediaImageOnly: true } });
    const system = await RedfishSystem.open(clientOf(bmc));
    expect(await system.insertMedia(await system.virtualCd(), LEASE_IMAGE)).toBe(204);
    expect(bmc.cd).toEqual({ image: LEASE_IMAGE, inserted: true });
    const inserts = bmc.requests.filter((r) => r.path.endsWith("/VirtualMedia.InsertMedia"));
    expect(inserts.map((r) => [r.status, r.body])).toEqual([
      [400, { Image: LEASE_IMAGE, Inserted: true, WriteProtected: true }],
      [204, { Image: LEASE_IMAGE }],
    ]);
  });

  it("boots the virtual CD as UsbCd where the BMC lists UsbCd and no Cd", async () => {
    const bmc = await bmcWith({ behaviour: { cdBootTarget: "UsbCd" } });
    const system = await RedfishSystem.open(clientOf(bmc));
    const { ok } = await runSteps(system, startSequence(system, LEASE_IMAGE, { power: { pollMs: 10 } }));
    expect(ok).toBe(true);
    expect(bmc.boots.at(-1)).toEqual({ target: "UsbCd", image: LEASE_IMAGE });
    // Set already: nothing is sent again.
    await system.setBootOnce("Cd");
    expect(await system.setBootOnce("Cd")).toBeUndefined();
  });

  it("powers on and polls until the power state arrives", async () => {
    const bmc = await bmcWith({ behaviour: { powerTransitionMs: 80 } });
    const system = await RedfishSystem.open(clientOf(bmc));
    expect(await system.setPower("On", { pollMs: 10, timeoutMs: 2_000 })).toBe(204);
    expect(bmc.powerState).toBe("On");
    const polls = bmc.requests.filter((r) => r.method === "GET" && r.path.endsWith(bmc.systemId));
    expect(polls.length).toBeGreaterThan(3);
    // Already on: nothing is sent.
    expect(await system.setPower("On", { pollMs: 10 })).toBeUndefined();
  });

  it("times out a power state that never comes", async () => {
    const bmc = await bmcWith();
    bmc.faults = { stuckPower: true };
    const system = await RedfishSystem.open(clientOf(bmc));
    await expect(system.setPower("On", { pollMs: 10, timeoutMs: 100 })).rejects.toBeInstanceOf(RedfishTimeoutError);
  });

  it("follows a 202 task monitor, honouring Retry-After", async () => {
    const bmc = await bmcWith({ behaviour: { mediaTaskMs: 150, taskRetryAfterSeconds: 0.05 } });
    const system = await RedfishSystem.open(clientOf(bmc));
    const cd = await system.virtualCd();
    const started = Date.now();
    expect(await system.insertMedia(cd, "https://images.example/a.iso")).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const monitor = bmc.requests.filter((r) => r.path.includes("/TaskMonitors/")).map((r) => r.status);
    expect(monitor.at(-1)).toBe(200);
    expect(monitor.slice(0, -1).every((status) => status === 202)).toBe(true);
    expect(monitor.length).toBeLessThan(8);
  });

  it("finds the virtual CD under the Manager on BMCs that put it there", async () => {
    const bmc = await bmcWith({ behaviour: { virtualMedia: "manager" } });
    const system = await RedfishSystem.open(clientOf(bmc));
    const cd = await system.virtualCd();
    expect(cd.path).toBe("/redfish/v1/Managers/BMC/VirtualMedia/CD1");
    await system.insertMedia(cd, "https://images.example/b.iso");
    expect(bmc.cd).toEqual({ image: "https://images.example/b.iso", inserted: true });
    await system.ejectMedia(cd);
    expect(bmc.cd.inserted).toBe(false);
  });

  it("finds the machine's boots in the simulator's system event log, with the image each booted", async () => {
    const bmc = await bmcWith();
    const system = await RedfishSystem.open(clientOf(bmc));
    await system.insertMedia(await system.virtualCd(), "https://images.example/c.iso");
    await system.setBootOnce("Cd");
    await system.setPower("On", { pollMs: 10 });
    await system.setPower("Off", { pollMs: 10 });
    await system.setPower("On", { pollMs: 10 });
    const log = await system.client.get(`/redfish/v1/Systems/${bmc.systemId}/LogServices/Log1/Entries`);
    const entries = log.Members as { Message: string; MessageArgs: string[]; Created: string }[];
    expect(entries.map((entry) => entry.MessageArgs)).toEqual([["Cd", "https://images.example/c.iso"], ["Hdd"]]);
    expect(entries[0]?.Message).toBe("System booted from Cd (image https://images.example/c.iso)");
    expect(Date.parse(entries[0]?.Created ?? "")).toBeGreaterThan(Date.now() - 60_000);
  });

  it("reads the inventory a node registers with", async () => {
    const bmc = await bmcWith({
      hardware: { sockets: 1, coresPerSocket: 24, memoryGiB: 256, disksGB: [1920, 1920], nicSpeedMbps: 25_000 },
    });
    const inventory = await (await RedfishSystem.open(clientOf(bmc))).inventory();
    expect(inventory).toMatchObject({
      systemId: bmc.systemId,
      cores: 24,
      threads: 48,
      gpus: 0,
      memoryGiB: 256,
      storageGB: 3840,
      arch: "x86_64",
    });
    expect(inventory.nics.map((nic) => [nic.macAddress, nic.speedMbps])).toEqual([
      ["02:4D:4D:00:07:01", 25_000],
      ["02:4D:4D:00:07:02", 25_000],
    ]);
    expect(inventory.nics[0]?.ipv4).toEqual([bmc.ipv4]);
  });

  describe("reading the inventory tolerantly", () => {
    it("reads the rest when the Memory collection answers 404 and TotalSystemMemoryGiB is missing", async () => {
      const bmc = await bmcWith();
      bmc.faults = { notFound: ["Memory"], omitted: ["MemorySummary"] };
      const inventory = await inventoryOf(bmc);
      expect(inventory).toMatchObject({ cores: 16, threads: 32, memoryGiB: undefined, storageGB: 12_000 });
      expect(inventory.unknown).toEqual([
        { part: "memory", reason: expect.stringMatching(/Systems\/MM0007\/Memory answered 404/) },
      ]);
      // Memory is what a profile cannot do without: enrolment refuses, saying why.
      expect(() => resourcesOf(inventory)).toThrow(IncompleteInventoryError);
      expect(() => resourcesOf(inventory)).toThrow(/memory \(.*Memory answered 404/);
    });

    it("counts what it could read when a processor and the disks answer 404, and says what was unknown", async () => {
      const bmc = await bmcWith();
      bmc.faults = { notFound: ["Processors/CPU2", "SimpleStorage/1"] };
      const inventory = await inventoryOf(bmc);
      // Cores come from ProcessorSummary when a processor is unreadable.
      expect(inventory).toMatchObject({ cores: 16, threads: 32, memoryGiB: 96, gpus: undefined, storageGB: undefined });
      expect(inventory.unknown.map((u) => u.part)).toEqual(["gpus", "storage"]);
      expect(resourcesOf(inventory)).toMatchObject({ cores: 16, memoryGiB: 96, storageGB: 0, gpus: 0 });
      expect(enrollmentWarnings(inventory)).toEqual([
        expect.stringMatching(/^gpus unknown.*Processors\/CPU2 answered 404/),
        expect.stringMatching(/^storage unknown.*SimpleStorage\/1 answered 404/),
      ]);
    });

    it("still fails when the System itself is not a readable ComputerSystem", async () => {
      const bmc = await bmcWith();
      bmc.faults = { omitted: ["Id"] };
      await expect(inventoryOf(bmc)).rejects.toThrow(RedfishError);
      await expect(inventoryOf(bmc)).rejects.toThrow(/is not a readable ComputerSystem/);
    });
  });

  describe("learning the machine's address", () => {
    it("says whether the BMC reports an IPv4 the agent can learn", async () => {
      const reporting = await bmcWith();
      expect(await (await RedfishSystem.open(clientOf(reporting))).address()).toEqual({
        ok: true,
        address: reporting.ipv4,
      });
      const silent = await bmcWith({ index: 8, behaviour: { reportsHostIpv4: false } });
      const check = await (await RedfishSystem.open(clientOf(silent))).address();
      expect(check).toEqual({
        ok: false,
        reason: expect.stringMatching(/no IPv4 address on 12446A3B0411, 12446A3B8890/),
      });
      // Only the System and its EthernetInterfaces are read, not the whole inventory.
      expect(silent.requests.some((r) => r.path.includes("/Memory") || r.path.includes("/Processors"))).toBe(false);
    });

    it("warns at enrolment when the agent could not learn the machine's address", async () => {
      const silent = await bmcWith({ behaviour: { reportsHostIpv4: false } });
      expect(enrollmentWarnings(await inventoryOf(silent))).toEqual([
        expect.stringMatching(/reports no IPv4 address.*give the node an "address" in the agent's configuration/),
      ]);
      const reporting = await bmcWith({ index: 9 });
      expect(enrollmentWarnings(await inventoryOf(reporting))).toEqual([]);
    });
  });

  describe("over TLS", () => {
    async function tlsBmc() {
      const tls = await selfSignedTls(["127.0.0.1"], 1);
      return { bmc: await bmcWith({ tls }), ca: tls.cert };
    }

    it("trusts a BMC whose certificate its CA signed", async () => {
      const { bmc, ca } = await tlsBmc();
      expect(bmc.url).toMatch(/^https:/);
      expect((await clientOf(bmc, { ca }).get("/redfish/v1/")).Id).toBe("RootService");
    });

    it("refuses an unknown certificate unless told to be insecure", async () => {
      const { bmc } = await tlsBmc();
      await expect(clientOf(bmc, { retry: { retries: 0 } }).get("/redfish/v1/")).rejects.toThrow(/certificate/);
      expect((await clientOf(bmc, { insecure: true }).get("/redfish/v1/")).Id).toBe("RootService");
    });
  });
});
