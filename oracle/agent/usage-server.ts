import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import type { AgentStore } from "./store.js";
import { usageRecord, usageRecordHash } from "../../sdk/usage-record.js";

/** Where the agent answers usage reads. */
export interface UsageEndpoint {
  url: string;
  close(): Promise<void>;
}

/**
 * A read-only HTTP endpoint for a lease's usage samples: `GET /leases/{leaseId}/usage` answers the
 * samples, the record built from them and its hash, which the agent anchors on-chain at the lease's
 * end. The gateway shows the samples to the lease's buyer once they hash to what the chain holds.
 * It serves nothing else and changes nothing; bind it where only the gateway reaches it.
 */
export async function startUsageEndpoint(store: AgentStore, host: string, port: number): Promise<UsageEndpoint> {
  const server: Server = createServer((req, res) => {
    const match = /^\/leases\/(\d{1,10})\/usage$/.exec(req.url ?? "");
    if (req.method !== "GET" || match === null) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    const leaseId = Number(match[1]);
    if (store.lease(leaseId) === undefined) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"no such lease here"}');
      return;
    }
    const samples = store.samples(leaseId);
    const body = {
      leaseId,
      samples,
      record: usageRecord(leaseId, samples),
      recordHash: samples.length === 0 ? null : usageRecordHash(leaseId, samples),
    };
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
