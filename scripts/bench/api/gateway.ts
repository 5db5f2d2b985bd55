import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { httpClient, type HttpClient } from "./http.js";
import { keyOf } from "./market.js";

export interface BenchGateway {
  url: string;
  adminKey: string;
  process: ChildProcess;
  /** Kept-alive connections to it, enough for the writes in flight. */
  client: HttpClient;
}

const CONNECTIONS = 64;

/**
 * Writes a benchmark gateway's settings file into `directory` (which holds the deployment): a fresh
 * master secret, `operatorKey` as the operator's, no rate limit to speak of, and `extra` settings.
 * Answers the settings file and where the first admin's API key will be written.
 */
export async function writeGatewaySettings(
  directory: string,
  rpcUrl: string,
  operatorKey: string,
  extra: Record<string, unknown> = {},
): Promise<{ configFile: string; keyFile: string }> {
  const secretFile = join(directory, "master.secret");
  await writeFile(secretFile, randomBytes(32).toString("hex"), { mode: 0o600 });
  const keyFile = join(directory, "admin.key");
  const configFile = join(directory, "gateway.json");
  await writeFile(
    configFile,
    JSON.stringify({
      rpcUrl,
      deploymentsDir: join(directory, "deployments"),
      database: join(directory, "gateway.sqlite"),
      masterSecretFile: secretFile,
      port: 0,
      operatorKey: { privateKey: operatorKey },
      bootstrapAdmin: { apiKeyFile: keyFile },
      limits: { requestsPerMinute: 10_000_000 },
      ...extra,
    }),
  );
  return { configFile, keyFile };
}

/**
 * Runs `market gateway run` in a process of its own against the chain at `rpcUrl`, with its state in
 * `directory` (which holds the deployment), and resolves once it listens.
 */
export async function startGateway(
  directory: string,
  rpcUrl: string,
  indexer: { blockRange: number },
): Promise<BenchGateway> {
  const { configFile, keyFile } = await writeGatewaySettings(directory, rpcUrl, keyOf(0), { indexer });
  const child = spawn(
    process.execPath,
    ["scripts/market.js", "gateway", "run", "--config", configFile, "--log-level", "warn"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /gateway listening on (\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`the gateway exited (${code})`)));
  });
  return {
    url,
    adminKey: (await readFile(keyFile, "utf8")).trim(),
    process: child,
    client: httpClient(url, CONNECTIONS),
  };
}

/**
 * Waits until the gateway has indexed block `blockNumber`, read from its metrics: readiness alone
 * allows a few blocks of lag, and a seed block holds hundreds of events.
 */
export async function indexedUpTo(gateway: BenchGateway, blockNumber: number): Promise<void> {
  for (;;) {
    const { text } = await gateway.client.send("GET", "/metrics", { authorization: `Bearer ${gateway.adminKey}` });
    const indexed = Number(/^indexer_indexed_block (\d+)$/m.exec(text)?.[1] ?? 0);
    if (indexed >= blockNumber) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
