import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { afterEach, describe, expect, it } from "vitest";

import { SimulatedBmc, type BmcOptions } from "../../oracle/bmc-sim/bmc.js";
import { RedfishClient, RedfishHttpError } from "../../oracle/redfish/index.js";
import { BMC_PASSWORD, BMC_USER } from "../helpers/agent.js";
import { waitFor } from "../helpers/wait.js";
import { checkService } from "./conformance/check.js";

const opened: { close(): Promise<void> }[] = [];

async function bmcWith(options: Partial<BmcOptions> = {}): Promise<SimulatedBmc> {
  const bmc = new SimulatedBmc({ index: 9, username: BMC_USER, password: BMC_PASSWORD, ...options });
  await bmc.listen();
  opened.push(bmc);
  return bmc;
}

const basic = `Basic ${Buffer.from(`${BMC_USER}:${BMC_PASSWORD}`).toString("base64")}`;

/** One request with Basic credentials; answers the status, the headers and the parsed body. */
async function call(bmc: SimulatedBmc, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", basic);
  const answer = await fetch(`${bmc.url}${path}`, { ...init, headers });
  const text = await answer.text();
  return { status: answer.status, headers: answer.headers, text, body: text === "" ? undefined : JSON.parse(text) };
}

const messageIds = (body: { error: { "@Message.ExtendedInfo": { MessageId: string }[] } }) =>
  body.error["@Message.ExtendedInfo"].map((info) => info.MessageId);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
});

describe("the BMC simulator's protocol", () => {
  it("refuses an OData-Version other than 4.0 with 412 and a Redfish error", async () => {
    const bmc = await bmcWith();
    expect((await call(bmc, "/redfish/v1/Systems", { headers: { "OData-Version": "4.0" } })).status).toBe(200);
    const refused = await call(bmc, "/redfish/v1/Systems", { headers: { "OData-Version": "4.01" } });
    expect(refused.status).toBe(412);
    expect(refused.body.error.message).toMatch(/OData-Version 4\.01 is not supported/);
    expect(messageIds(refused.body)).toEqual(["Base.1.5.0.GeneralError"]);
  });

  it("honours $select: the named properties, nested ones too, and every @odata annotation", async () => {
    const bmc = await bmcWith();
    const system = `/redfish/v1/Systems/${bmc.systemId}`;
    const { status, body } = await call(bmc, `${system}?$select=PowerState,Boot/BootSourceOverrideTarget`);
    expect(status).toBe(200);
    expect(body).toEqual({
      "@odata.type": expect.stringMatching(/^#ComputerSystem\.v/),
      "@odata.id": system,
      "@odata.etag": expect.any(String),
      PowerState: "Off",
      // A property's own annotations come with it: a client choosing a target wants its allowable values.
      Boot: { BootSourceOverrideTarget: "None", "BootSourceOverrideTarget@Redfish.AllowableValues": expect.any(Array) },
    });
    const members = await call(bmc, "/redfish/v1/Systems?$select=Members");
    expect(Object.keys(members.body).sort()).toEqual(
      ["@odata.id", "@odata.type", "Members", "Members@odata.count"].sort(),
    );
    expect((await call(bmc, `${system}?$select=`)).status).toBe(400);
  });

  it("answers 501 with QueryNotSupported to the $ parameters it does not take, and ignores other parameters", async () => {
    const bmc = await bmcWith();
    for (const query of ["$expand=.", "$filter=Id%20eq%20'1'", "$top=1", "$skip=1", "$levels=2"]) {
      const { status, body } = await call(bmc, `/redfish/v1/Systems?${query}`);
      expect({ query, status }).toEqual({ query, status: 501 });
      expect(messageIds(body)).toEqual(["Base.1.5.0.QueryNotSupported"]);
    }
    expect((await call(bmc, "/redfish/v1/Systems?only")).status).toBe(200);
    const root = await call(bmc, "/redfish/v1");
    expect(root.body.ProtocolFeaturesSupported).toMatchObject({
      SelectQuery: true,
      FilterQuery: false,
      TopSkipQuery: false,
      ExpandQuery: { ExpandAll: false },
    });
  });

  it("says which methods a resource takes, and refuses the others with 405 and Allow", async () => {
    const bmc = await bmcWith();
    const system = `/redfish/v1/Systems/${bmc.systemId}`;
    expect((await call(bmc, system)).headers.get("allow")).toBe("GET, HEAD, PATCH");
    expect((await call(bmc, "/redfish/v1/Chassis")).headers.get("allow")).toBe("GET, HEAD");
    const put = await call(bmc, system, { method: "PUT", body: "{}" });
    expect([put.status, put.headers.get("allow")]).toEqual([405, "GET, HEAD, PATCH"]);
    expect(put.body.error.message).toBe(`${system} takes GET, HEAD, PATCH, not PUT.`);
    const reset = await call(bmc, `${system}/Actions/ComputerSystem.Reset`);
    expect([reset.status, reset.headers.get("allow")]).toEqual([405, "POST"]);
    const head = await call(bmc, system, { method: "HEAD" });
    expect([head.status, head.text, head.headers.get("etag")]).toEqual([200, "", expect.stringMatching(/^"/)]);
  });
});

describe("the BMC simulator's EventService", () => {
  const clientOf = (bmc: SimulatedBmc) => {
    const client = new RedfishClient({ url: bmc.url, credentials: { username: BMC_USER, password: BMC_PASSWORD } });
    opened.push(client);
    return client;
  };

  it("creates, lists and deletes subscriptions, and the tree stays conformant with one", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc);
    const root = await client.get("/redfish/v1");
    const service = await client.get((root.EventService as { "@odata.id": string })["@odata.id"]);
    expect(service).toMatchObject({ ServiceEnabled: true, DeliveryRetryAttempts: 0 });
    const subscriptions = (service.Subscriptions as { "@odata.id": string })["@odata.id"];

    const created = await client.post(subscriptions, {
      Destination: "https://collector.example/events",
      Protocol: "Redfish",
      EventTypes: ["StatusChange"],
      Context: "metalmarket",
    });
    expect(created.status).toBe(201);
    const location = String(created.headers.location);
    expect(created.body).toMatchObject({ "@odata.id": location, Destination: "https://collector.example/events" });
    expect((await client.get(subscriptions)).Members).toEqual([{ "@odata.id": location }]);
    const { violations } = await checkService({ url: bmc.url, username: BMC_USER, password: BMC_PASSWORD });
    expect(violations).toEqual([]);

    expect((await client.request("DELETE", location)).status).toBe(204);
    expect((await client.get(subscriptions))["Members@odata.count"]).toBe(0);
    const gone = await client.get(location).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(RedfishHttpError);
    expect((gone as RedfishHttpError).status).toBe(404);
  });

  it("POSTs an event to its subscribers when the machine's power changes", async () => {
    const received: unknown[] = [];
    const listener = createServer((request, response) => {
      let text = "";
      request.on("data", (chunk: Buffer) => (text += chunk.toString()));
      request.on("end", () => {
        received.push(JSON.parse(text));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    opened.push({ close: () => new Promise<void>((resolve) => listener.close(() => resolve())) });
    const destination = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/events`;

    const bmc = await bmcWith();
    const client = clientOf(bmc);
    const subscriptions = "/redfish/v1/EventService/Subscriptions";
    await client.post(subscriptions, { Destination: destination, Protocol: "Redfish", Context: "lease-7" });
    // A subscriber to alerts only hears nothing of power.
    await client.post(subscriptions, { Destination: destination, Protocol: "Redfish", EventTypes: ["Alert"] });
    await client.post(`/redfish/v1/Systems/${bmc.systemId}/Actions/ComputerSystem.Reset`, { ResetType: "On" });

    await waitFor("the event", () => received.length > 0);
    // Time for a wrongly sent second event to arrive, were there one.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual([
      {
        "@odata.type": "#Event.v1_7_0.Event",
        Id: "1",
        Name: "Event",
        Context: "lease-7",
        Events: [
          expect.objectContaining({
            EventType: "ResourceUpdated",
            MessageId: "Base.1.5.0.PropertyValueModified",
            MessageArgs: ["PowerState", "On"],
            OriginOfCondition: { "@odata.id": `/redfish/v1/Systems/${bmc.systemId}` },
          }),
        ],
      },
    ]);

    // SubmitTestEvent (which sushy needs advertised) reaches both: the first takes every type.
    const test = { EventType: "Alert", MessageId: "Base.1.5.0.GeneralError", Message: "a test" };
    await client.post("/redfish/v1/EventService/Actions/EventService.SubmitTestEvent", test);
    await waitFor("the test events", () => received.length === 3);
    const alerts = received.slice(1) as { Context?: string; Events: unknown[] }[];
    expect(alerts.map((event) => event.Context).sort()).toEqual(["lease-7", undefined]);
    for (const alert of alerts) expect(alert.Events).toEqual([expect.objectContaining(test)]);
  });

  it("refuses a subscription without a Destination or with a Protocol it does not speak", async () => {
    const bmc = await bmcWith();
    const client = clientOf(bmc);
    const path = "/redfish/v1/EventService/Subscriptions";
    for (const body of [{ Protocol: "Redfish" }, { Destination: "https://c.example/", Protocol: "SNMPv2c" }]) {
      const refused = await client.post(path, body).catch((error: unknown) => error);
      expect((refused as RedfishHttpError).status).toBe(400);
    }
    expect((await client.get(path))["Members@odata.count"]).toBe(0);
  });

  it("is absent when told so: no link from the service root or the OData service document, 404 at its URI", async () => {
    const bmc = await bmcWith({ behaviour: { eventService: "absent" } });
    const client = clientOf(bmc);
    expect((await client.get("/redfish/v1")).EventService).toBeUndefined();
    const odata = (await client.get("/redfish/v1/odata")).value as { url: string }[];
    expect(odata.map((entry) => entry.url)).not.toContain("/redfish/v1/EventService");
    for (const path of ["/redfish/v1/EventService", "/redfish/v1/EventService/Subscriptions"]) {
      const missing = await client.get(path).catch((error: unknown) => error);
      expect((missing as RedfishHttpError).status).toBe(404);
    }
    const { violations } = await checkService({ url: bmc.url, username: BMC_USER, password: BMC_PASSWORD });
    expect(violations).toEqual([]);
  });
});
