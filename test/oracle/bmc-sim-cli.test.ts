import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { RedfishClient, RedfishNetworkError } from "../../oracle/redfish/index.js";
import { BMC_PASSWORD, BMC_USER } from "../helpers/agent.js";
import { waitFor } from "../helpers/wait.js";

const CLI = join(import.meta.dirname, "../../scripts/market.js");
const children: ChildProcess[] = [];
const clients: RedfishClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const child of children.splice(0)) child.kill("SIGTERM");
});

/** Starts `market bmc-sim ...` with its files in `directory`; answers what it printed once its BMCs listen. */
async function bmcSim(directory: string, ...args: string[]) {
  const passwordFile = join(directory, "password");
  await writeFile(passwordFile, BMC_PASSWORD, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [CLI, "bmc-sim", "--count", "1", "--user", BMC_USER, "--password-file", passwordFile, ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const bmcs = await waitFor(
    "the simulated BMCs",
    () => /^\]$/m.test(stdout) && (JSON.parse(stdout) as { url: string; systemId: string; caFile?: string }[]),
    60_000,
  );
  return { bmcs, stderr: () => stderr };
}

function clientOf(url: string, ca?: Buffer): RedfishClient {
  const client = new RedfishClient({
    url,
    credentials: { username: BMC_USER, password: BMC_PASSWORD },
    retry: { retries: 0 },
    ...(ca === undefined ? {} : { ca }),
  });
  clients.push(client);
  return client;
}

describe("market bmc-sim --tls", () => {
  it("serves HTTPS with a certificate it writes out: trusted from that file, refused without it", async () => {
    const directory = await mkdtemp(join(tmpdir(), "bmc-sim-cli-"));
    const { bmcs, stderr } = await bmcSim(directory, "--tls", "--cert-file", join(directory, "ca.pem"));
    const [bmc] = bmcs;
    expect(bmc?.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const caFile = bmc?.caFile ?? "";
    expect(caFile).toBe(join(directory, "ca.pem"));
    expect(stderr()).toContain(caFile);

    const ca = await readFile(caFile);
    expect(ca.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const trusting = clientOf(bmc?.url ?? "", ca);
    expect((await trusting.get(`/redfish/v1/Systems/${bmc?.systemId}`)).Id).toBe(bmc?.systemId);

    const refused = await clientOf(bmc?.url ?? "")
      .get("/redfish/v1/")
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RedfishNetworkError);
    expect(String(refused)).toMatch(/certificate/);
  });

  it("serves plain HTTP without --tls, as before", async () => {
    const { bmcs } = await bmcSim(await mkdtemp(join(tmpdir(), "bmc-sim-cli-")));
    expect(bmcs).toEqual([{ url: expect.stringMatching(/^http:\/\//), systemId: "MM0001" }]);
    expect((await clientOf(bmcs[0]?.url ?? "").get("/redfish/v1/")).Id).toBe("RootService");
  });
});
