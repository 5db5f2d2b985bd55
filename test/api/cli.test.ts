import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runGateway, stopGateway } from "../helpers/gateway-process.js";
import { openChain, type Chain } from "./helpers.js";

describe("market gateway run", () => {
  let chain: Chain;
  let config: string;
  let keyFile: string;

  beforeAll(async () => {
    chain = await openChain();
    const secretFile = join(chain.directory, "master.secret");
    await writeFile(secretFile, randomBytes(32).toString("hex"), { mode: 0o600 });
    keyFile = join(chain.directory, "admin.key");
    config = join(chain.directory, "gateway.json");
    await writeFile(
      config,
      JSON.stringify({
        rpcUrl: chain.rpcUrl,
        deploymentsDir: "deployments",
        database: "gateway.sqlite",
        masterSecretFile: "master.secret",
        port: 0,
        operatorKey: { privateKey: chain.operatorKey },
        bootstrapAdmin: { apiKeyFile: keyFile },
      }),
    );
  });
  afterAll(() => chain.close());

  it("serves the API in its own process, stops on Ctrl-C, and starts again on the same state", async () => {
    const first = await runGateway(config);
    expect(first.stdout()).toContain(`API key written to ${keyFile}`);
    const key = (await readFile(keyFile, "utf8")).trim();
    const created = await fetch(`${first.url}/tenants`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Made by the CLI's gateway" }),
    });
    expect(created.status).toBe(201);
    expect(await stopGateway(first)).toBe(0);

    const second = await runGateway(config);
    expect(second.stdout()).not.toContain("first admin created");
    const tenants = (await (
      await fetch(`${second.url}/tenants`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as {
      tenants: { name: string }[];
    };
    expect(tenants.tenants.map((t) => t.name)).toEqual(["Made by the CLI's gateway"]);
    expect(await stopGateway(second)).toBe(0);
  });

  it("refuses, with a clear message, to mix its state with a chain that was reset", async () => {
    const reset = await openChain();
    try {
      const settings = JSON.parse(await readFile(config, "utf8")) as Record<string, unknown>;
      const moved = join(chain.directory, "moved.json");
      await writeFile(moved, JSON.stringify({ ...settings, rpcUrl: reset.rpcUrl }));
      await expect(runGateway(moved)).rejects.toThrow(/holds a transaction in block \d+ .* the chain was reset/);
      const fresh = join(chain.directory, "fresh.json");
      await writeFile(
        fresh,
        JSON.stringify({ ...settings, rpcUrl: reset.rpcUrl, database: "fresh.sqlite", bootstrapAdmin: {} }),
      );
      const started = await runGateway(fresh);
      expect(started.stdout()).toMatch(/API key \(shown once\): mm_/);
      expect(await stopGateway(started)).toBe(0);
    } finally {
      await reset.close();
    }
  });
});
