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
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const t0 = performance.now();
        const { status } = await client.send("GET", pathOf(i), headers);
        latencies.push(performance.now() - t0);
        if (status !== 200) errors += 1;
      }
    }),
  );
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
