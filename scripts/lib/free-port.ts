import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const LOWEST_PORT = 10_000;
const TRIES = 50;
/** Ports this process has handed out, so that two callers never get the same one. */
const handedOut = new Set<number>();

/**
 * The first port of the kernel's ephemeral range (Linux's default when it cannot be read). The
 * ports we choose lie below it: an ephemeral port that is free now can be taken a moment later by
 * any outgoing connection (to the chain, to PostgreSQL) before our server binds it.
 */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const port = Number(low);
    return Number.isInteger(port) && port > LOWEST_PORT + TRIES ? port : 32_768;
  } catch {
    return 32_768;
  }
}

function listenable(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : undefined));
    });
  });
}

/**
 * A port nobody listens on now on `host`, for a server that must be named before it starts. It is
 * drawn from below the ephemeral range, where nothing but a server asking for it by number lands.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const end = ephemeralStart();
  for (let i = 0; i < TRIES; i++) {
    const candidate = LOWEST_PORT + Math.floor(Math.random() * (end - LOWEST_PORT));
    if (handedOut.has(candidate)) continue;
    const port = await listenable(candidate, host);
    if (port !== undefined) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port below ${end} on ${host} after ${TRIES} tries`);
}
