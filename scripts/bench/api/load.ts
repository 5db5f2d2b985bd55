import { Agent, request } from "node:http";

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

/** One GET on a kept-alive connection: its status once the whole body is in. */
function get(agent: Agent, url: URL, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.on("data", () => undefined);
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * `requests` GETs of `pathOf(i)` with `concurrency` in flight: throughput and latency. The client is
 * Node's own HTTP agent, one kept-alive connection per request in flight: `fetch` costs about as much
 * CPU per request as the gateway does, and on a machine of two cores that load would be measured
 * as the gateway's latency.
 */
export async function load(
  baseUrl: string,
  token: string,
  concurrency: number,
  requests: number,
  pathOf: (i: number) => string,
): Promise<LoadFigures> {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const t0 = performance.now();
        const status = await get(agent, url, pathOf(i), token);
        latencies.push(performance.now() - t0);
        if (status !== 200) errors += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
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
