import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** Networks a webhook must not reach unless allowed: loopback, private, link-local, shared, unspecified. */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
] as const) {
  INTERNAL.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["::ffff:0:0", 96],
] as const) {
  INTERNAL.addSubnet(network, prefix, "ipv6");
}

/**
 * Why the gateway may not POST to `url`, or `undefined` when it may. Webhook URLs come from users,
 * so by default they must not point into the gateway's own network (a request forged on their
 * behalf); the check runs when a webhook is added and again before each delivery, since a name may
 * resolve differently later.
 */
export async function refusedDestination(url: string, allowInternal: boolean): Promise<string | undefined> {
  if (allowInternal) return undefined;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) === 0 ? await lookup(host, { all: true }) : [{ address: host, family: isIP(host) }];
  } catch {
    return `${host} does not resolve`;
  }
  const internal = addresses.find((a) => INTERNAL.check(a.address, a.family === 6 ? "ipv6" : "ipv4"));
  return internal === undefined ? undefined : `${host} is an internal address (${internal.address})`;
}
