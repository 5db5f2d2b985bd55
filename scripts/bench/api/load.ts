import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { httpClient } from "./http.js";

export interface LoadFigures {
  concurrency: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

/**
 * Untimed requests sent first, at the same concurrency (and to other paths, where `pathOf` varies):
 * the first thousands of requests of a Node process run code not yet compiled, at a third of the
 * speed or less; measured, they would be the p99.
 */
const WARM_UP_REQUESTS = 2000;

/** `requests` GETs of `pathOf(i)` with `concurrency` in flight, each on a connection of its own: throughput and latency. */
export async function load(
  baseUrl: string,
  token: string,
  concurrency: number,
  requests: number,
  pathOf: (i: number) => string,
): Promise<LoadFigures> {
  const client = httpClient(baseUrl, concurrency);
  const headers = { authorization: `Bearer ${token}` };
  const run = async (from: number, count: number, latencies: number[]) => {
    let next = from;
    let errors = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < from + count) {
          const i = next++;
          const t0 = performance.now();
          const { status } = await client.send("GET", pathOf(i), headers);
          latencies.push(performance.now() - t0);
          if (status !== 200) errors += 1;
        }
      }),
    );
    return errors;
  };
  await run(requests, WARM_UP_REQUESTS, []);
  const latencies: number[] = [];
  const started = performance.now();
  const errors = await run(0, requests, latencies);
  const seconds = (performance.now() - started) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests,
    rps: Math.round(requests / seconds),
    p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
    p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
    errors,
  };
}

/**
 * The floor, measured in the same run: a plain `node:http` server in a process of its own that
 * answers every GET with `body` (an answer the gateway gave), so the same bytes cross the same
 * loopback to the same load generator. What the gateway adds on top is its own.
 */
export async function floorServer(body: string): Promise<{ url: string; stop(): void }> {
  // The body by file: an environment variable holds at most 128 KiB.
  const file = join(await mkdtemp(join(tmpdir(), "metalmarket-floor-")), "body.json");
  await writeFile(file, body);
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const body = require("node:fs").readFileSync(process.argv[1]);
       const server = require("node:http").createServer((req, res) => {
         res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
         res.end(body);
       });
       server.listen(0, "127.0.0.1", () => console.log(server.address().port));`,
      file,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once("exit", (code) => reject(new Error(`the floor server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}
