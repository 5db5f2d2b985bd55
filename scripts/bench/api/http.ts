import { Agent, request } from "node:http";

/**
 * The benchmark's HTTP client: Node's own agent, connections kept alive. `fetch` costs about as
 * much CPU per request as the gateway does to answer it, and on a machine of two cores the load
 * generator's work would be measured as the gateway's.
 */
export function httpClient(baseUrl: string, maxSockets: number) {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    /** One exchange: the status and the whole body, as text. */
    send(
      method: string,
      path: string,
      headers: Record<string, string>,
      body?: string,
    ): Promise<{ status: number; text: string }> {
      return new Promise((resolve, reject) => {
        const req = request({ agent, method, host: url.hostname, port: url.port, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}

export type HttpClient = ReturnType<typeof httpClient>;
