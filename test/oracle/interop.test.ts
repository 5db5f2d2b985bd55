import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterEach, describe, expect, it } from "vitest";

import { SimulatedBmc, type BmcOptions } from "../../oracle/bmc-sim/bmc.js";
import { BMC_PASSWORD, BMC_USER, LEASE_IMAGE } from "../helpers/agent.js";

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const REDFISHTOOL = "/usr/bin/redfishtool";
const SUSHY_DRIVER = join(import.meta.dirname, "clients/sushy_drive.py");
const SUSHY_EVENTS = join(import.meta.dirname, "clients/sushy_events.py");

/** Whether Debian's python3-sushy is installed for the system Python. */
async function hasSushy(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  return run(PYTHON, ["-c", "import sushy"]).then(
    () => true,
    () => false,
  );
}

// The clients come from Debian (`.ci/run` installs them). Without them a developer's run skips
// this file; CI, which sets CI, fails instead of skipping.
const clientsPresent = existsSync(REDFISHTOOL) && (await hasSushy());
if (!clientsPresent && process.env.CI !== undefined) {
  throw new Error("CI needs Debian's python3-sushy and redfishtool for the Redfish interoperability tests");
}

describe.skipIf(!clientsPresent)("the BMC simulator, driven by Redfish clients nobody here wrote", () => {
  const bmcs: SimulatedBmc[] = [];
  afterEach(async () => {
    await Promise.all(bmcs.splice(0).map((bmc) => bmc.close()));
  });

  async function bmcWith(options: Partial<BmcOptions>): Promise<SimulatedBmc> {
    const bmc = new SimulatedBmc({ index: 3, username: BMC_USER, password: BMC_PASSWORD, ...options });
    await bmc.listen();
    bmcs.push(bmc);
    return bmc;
  }

  /** Runs a sushy script against `bmc` with its credentials and `args`; answers what sushy saw. */
  async function sushy(script: string, bmc: SimulatedBmc, ...args: string[]): Promise<Record<string, unknown>> {
    const directory = await mkdtemp(join(tmpdir(), "sushy-"));
    const passwordFile = join(directory, "password");
    await writeFile(passwordFile, BMC_PASSWORD, { mode: 0o600 });
    const { stdout } = await run(PYTHON, [script, bmc.url, BMC_USER, passwordFile, ...args]);
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  const driveWithSushy = (bmc: SimulatedBmc) =>
    sushy(SUSHY_DRIVER, bmc, `/redfish/v1/Systems/${bmc.systemId}`, "/redfish/v1/Managers/BMC", LEASE_IMAGE);

  it("serves OpenStack's sushy: power, boot override and virtual media under the Manager", async () => {
    const bmc = await bmcWith({
      behaviour: { powerTransitionMs: 50, mediaTaskMs: 50, taskRetryAfterSeconds: 0, virtualMedia: "manager" },
    });
    const seen = await driveWithSushy(bmc);

    expect(seen.resetTypes).toEqual([
      "ForceOff",
      "ForceOn",
      "ForceRestart",
      "GracefulRestart",
      "GracefulShutdown",
      "Nmi",
      "On",
      "PushPowerButton",
    ]);
    expect(seen.powerAfterOn).toBe("On");
    expect(seen.boot).toEqual(["Cd", "Once", "UEFI"]);
    expect(seen.mediaAfterInsert).toEqual([LEASE_IMAGE, true]);
    expect(seen.mediaAfterEject).toEqual([null, false]);
    expect(seen.badPatch).toBe(400);
    expect(seen.wrongPassword).toBe(401);
    // Seen from the BMC's side: sushy logged in with a session, sent an ETag, and logged out.
    expect(bmc.powerState).toBe("On");
    expect(bmc.requests.some((r) => r.method === "POST" && r.path.endsWith("/Sessions") && r.status === 201)).toBe(
      true,
    );
    expect(bmc.cd).toEqual({ image: null, inserted: false });
  });

  it("refuses session logins with 401 as sushy-tools does, and sushy gets in with Basic", async () => {
    const bmc = await bmcWith({ behaviour: { sessions: 401, powerTransitionMs: 0, virtualMedia: "manager" } });
    const seen = await driveWithSushy(bmc);
    expect(seen).toMatchObject({ powerAfterOn: "On", mediaAfterInsert: [LEASE_IMAGE, true], wrongPassword: 401 });
    expect(bmc.sessionCount).toBe(0);
    const logins = bmc.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Sessions"));
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((r) => r.status === 401)).toBe(true);
  });

  it("lets sushy subscribe to events and unsubscribe, or finds no EventService when there is none", async () => {
    const destination = "https://collector.example/redfish-events";
    const withEvents = await bmcWith({});
    expect(await sushy(SUSHY_EVENTS, withEvents, destination)).toEqual({
      eventService: "present",
      enabled: true,
      eventTypes: ["Alert", "ResourceAdded", "ResourceRemoved", "ResourceUpdated", "StatusChange"],
      created: [destination, "sushy"],
      membersAfterCreate: 1,
      membersAfterDelete: 0,
    });
    const without = await bmcWith({ behaviour: { eventService: "absent" } });
    expect(await sushy(SUSHY_EVENTS, without, destination)).toEqual({ eventService: "absent" });
  });

  it("serves DMTF's redfishtool: reset, boot override and virtual media actions under the System", async () => {
    const bmc = await bmcWith({ behaviour: { powerTransitionMs: 0, mediaTaskMs: 50, taskRetryAfterSeconds: 0 } });
    const host = bmc.url.replace("http://", "");
    const tool = (...args: string[]) =>
      run(REDFISHTOOL, ["-r", host, "-S", "Never", "-u", BMC_USER, "-p", BMC_PASSWORD, ...args]);
    const system = `/redfish/v1/Systems/${bmc.systemId}`;

    await tool("-A", "Session", "Systems", "-I", bmc.systemId, "reset", "On");
    expect(bmc.powerState).toBe("On");
    await tool("Systems", "-I", bmc.systemId, "setBootOverride", "Once", "Cd");
    expect(bmc.bootOverride).toEqual({ target: "Cd", enabled: "Once", mode: "UEFI" });

    const { stdout: task } = await tool(
      "raw",
      "POST",
      `${system}/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia`,
      "-d",
      JSON.stringify({ Image: LEASE_IMAGE, Inserted: true }),
    );
    expect(JSON.parse(task)).toMatchObject({ TaskState: "Completed" });
    expect(bmc.cd).toEqual({ image: LEASE_IMAGE, inserted: true });
    const { stdout: media } = await tool("raw", "GET", `${system}/VirtualMedia/CD1`);
    expect(JSON.parse(media)).toMatchObject({ Image: LEASE_IMAGE, Inserted: true, ConnectedVia: "URI" });
    await tool("raw", "POST", `${system}/VirtualMedia/CD1/Actions/VirtualMedia.EjectMedia`, "-d", "{}");
    expect(bmc.cd.inserted).toBe(false);

    await tool("Systems", "-I", bmc.systemId, "reset", "ForceOff");
    expect(bmc.powerState).toBe("Off");
    const refused = await tool(
      "raw",
      "PATCH",
      system,
      "-d",
      JSON.stringify({ Boot: { BootSourceOverrideTarget: "Floppy" } }),
    ).catch((e: { code: number; stderr: string }) => e);
    expect("code" in refused && refused.code).not.toBe(0);
    expect(String((refused as { stderr: string }).stderr)).toMatch(/400/);
    const wrong = await run(REDFISHTOOL, ["-r", host, "-S", "Never", "-u", BMC_USER, "-p", "wrong", "Systems"]).catch(
      (e: { stderr: string }) => e,
    );
    expect(String((wrong as { stderr: string }).stderr)).toMatch(/401/);
  });
});
