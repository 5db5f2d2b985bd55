import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { Wallet, encryptKeystoreJson } from "ethers";

import { GatewayClient } from "../../api/client.js";
import { openChain } from "../api/helpers.js";
import { runStack } from "../helpers/stack.js";
import { waitFor } from "../helpers/wait.js";

interface Offer {
  offerId: number;
  model: string;
}
interface Lease {
  status: string;
  nodeAddress: string | null;
}

async function isListening(url: string): Promise<boolean> {
  return fetch(url, { method: "POST" }).then(
    () => true,
    () => false,
  );
}

describe("market start (npm start)", () => {
  let dataDir: string;
  const env = () => ({ MARKET_DATA_DIR: dataDir, MARKET_NODES: "4" });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "metalmarket-stack-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("runs the whole marketplace with a live demo market, and stops every part on Ctrl-C", async () => {
    const stack = await runStack(["--demo"], env());
    try {
      expect(stack.summary).toMatch(/chain id\s+31337/);
      expect(stack.summary).toMatch(/log in\s+admin@metalmarket\.local, password in/);
      expect((await fetch(`${stack.gatewayUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${stack.gatewayUrl}/readyz`)).status).toBe(200);
      // The front door is the portal (built by `npm run build`).
      const front = await fetch(stack.gatewayUrl);
      expect(front.status).toBe(200);
      expect(await front.text()).toContain('<div id="root"></div>');

      const admin = new GatewayClient(
        stack.gatewayUrl,
        (await readFile(join(dataDir, "state", "admin.api-key"), "utf8")).trim(),
      );
      const { nodes } = await admin.get<{ nodes: { resources: { cores: number } }[] }>("/nodes");
      expect(nodes).toHaveLength(4);
      expect(new Set(nodes.map((node) => node.resources.cores)).size).toBeGreaterThan(1);
      const { offers } = await admin.get<{ offers: Offer[] }>("/offers");
      expect(new Set(offers.map((offer) => offer.model))).toEqual(new Set(["fixed", "dynamic", "auction"]));
      const { bids } = await admin.get<{ bids: { state: string }[] }>("/bids", { all: true });
      expect(bids.map((bid) => bid.state)).toEqual(["committed", "committed", "committed"]);

      // The demo's booking runs now, so the provider's agent boots it through the simulated BMC.
      const leaseId = Number(/lease (\d+) running/.exec(stack.summary)?.[1]);
      const lease = await waitFor(
        "the demo lease to be provisioned",
        async () => {
          const answer = await admin.get<Lease>(`/leases/${leaseId}`);
          return answer.nodeAddress !== null ? answer : undefined;
        },
        30_000,
      );
      expect(lease.status).toBe("active");
    } finally {
      expect(await stack.stop()).toBe(0);
    }
    expect(await isListening(stack.gatewayUrl)).toBe(false);
    expect(await isListening(stack.rpcUrl)).toBe(false);
  });

  it("starts again on the same data directory: same secrets, the old chain's state moved aside", async () => {
    const before = {
      password: await readFile(join(dataDir, "secrets", "admin.password"), "utf8"),
      providers: await readFile(join(dataDir, "state", "providers.json"), "utf8"),
    };
    const stack = await runStack([], env());
    try {
      expect(stack.summary).toMatch(/the embedded chain starts empty on every run/);
      expect(await readFile(join(dataDir, "secrets", "admin.password"), "utf8")).toBe(before.password);
      expect(await readFile(join(dataDir, "previous-state", "providers.json"), "utf8")).toBe(before.providers);
      const agents = (text: string) =>
        (JSON.parse(text) as { agent: { address: string } }[]).map((provider) => provider.agent.address);
      const now = await readFile(join(dataDir, "state", "providers.json"), "utf8");
      expect(agents(now)).toEqual(agents(before.providers));

      const admin = new GatewayClient(
        stack.gatewayUrl,
        (await readFile(join(dataDir, "state", "admin.api-key"), "utf8")).trim(),
      );
      const { offers } = await admin.get<{ offers: Offer[] }>("/offers");
      expect(offers).toEqual([]);
    } finally {
      expect(await stack.stop()).toBe(0);
    }
  });

  it("refuses, with a clear message, to run its state against a configured chain that was reset", async () => {
    const directory = await mkdtemp(join(tmpdir(), "metalmarket-network-"));
    const first = await openChain();
    try {
      // The operator's key, as a real network's operator would keep it: an encrypted keystore.
      const password = "operator keystore password";
      await writeFile(join(directory, "operator.password"), password, { mode: 0o600 });
      const keystore = await encryptKeystoreJson(new Wallet(first.operatorKey), password, {
        scrypt: { N: 1 << 10 },
      });
      await writeFile(join(directory, "operator.json"), keystore, { mode: 0o600 });
      const settingsFor = async (chain: typeof first, name: string) => {
        const file = join(directory, name);
        await writeFile(
          file,
          JSON.stringify({
            dataDir: "data",
            chain: {
              rpcUrl: chain.rpcUrl,
              chainId: 31337,
              deploymentsDir: join(chain.directory, "deployments"),
              operatorKey: { keystore: "operator.json", passwordFile: "operator.password" },
            },
            simulatedBmcs: { count: 2 },
          }),
        );
        return file;
      };

      const running = await runStack(["--config", await settingsFor(first, "first.json")], { MARKET_NODES: "" });
      expect(running.rpcUrl).toBe(first.rpcUrl);
      expect(running.summary).toMatch(/provider\s+Northwind Racks: olivia@northwind\.example, 1 node$/m);
      expect(await running.stop()).toBe(0);

      const reset = await openChain();
      try {
        await expect(
          runStack(["--config", await settingsFor(reset, "reset.json")], { MARKET_NODES: "" }),
        ).rejects.toThrow(
          /gateway exited with 1 before it was ready: .*the chain was reset or this is another network/,
        );
      } finally {
        await reset.close();
      }
    } finally {
      await first.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
