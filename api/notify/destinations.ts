import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Networks a user's URL must not reach unless allowed: loopback, private, link-local (cloud
 * metadata), shared, benchmarking, multicast, reserved and unspecified addresses. IPv4 and IPv6
 * are kept apart: an IPv6 rule for `::ffff:0:0/96` in the same list would match every IPv4 address.
 */
const INTERNAL_V4 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  INTERNAL_V4.addSubnet(network, prefix, "ipv4");
}
const INTERNAL_V6 = new BlockList();
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  INTERNAL_V6.addSubnet(network, prefix, "ipv6");
}

/** True when `address` (an IP literal) is in an internal network; IPv4-mapped IPv6 counts as its IPv4. */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return INTERNAL_V4.check(mapped, "ipv4");
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/i.test(address)) {
    const [high = 0, low = 0] = address
      .slice(7)
      .split(":")
      .map((part) => parseInt(part, 16));
    return INTERNAL_V4.check([high >> 8, high & 255, low >> 8, low & 255].join("."), "ipv4");
  }
  return isIP(address) === 6 ? INTERNAL_V6.check(address, "ipv6") : INTERNAL_V4.check(address, "ipv4");
}

/** The host of a URL as an address or name, without IPv6 brackets. */
function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, "");
}

/**
 * Why the gateway may not POST to `url`, or `undefined` when it may. Webhook URLs come from users,
 * so by default they must not point into the gateway's own network (a request forged on their
 * behalf); the check runs when a webhook is added and again before each delivery, since a name may
 * resolve differently later.
 */
export async function refusedDestination(url: string, allowInternal: boolean): Promise<string | undefined> {
  if (allowInternal) return undefined;
  const host = hostOf(url);
  let addresses: { address: string }[];
  try {
    addresses = isIP(host) === 0 ? await lookup(host, { all: true }) : [{ address: host }];
  } catch {
    return `${host} does not resolve`;
  }
  const internal = addresses.find((a) => isInternalAddress(a.address));
  return internal === undefined ? undefined : `${host} is an internal address (${internal.address})`;
}

/**
 * Why a boot image URL is refused, or `undefined`. The BMC fetches it from inside the provider's
 * network, so a buyer must not point it at that network's own services (or at a local file):
 * only http(s), and no loopback, private or link-local address literal or `localhost` name unless
 * the operator allows internal images. Names are not resolved here: the BMC resolves them in its
 * own network, which the gateway cannot see.
 */
export function refusedImage(url: string, allowInternal: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not a URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be an http(s) URL";
  if (parsed.username !== "" || parsed.password !== "") return "must not carry credentials";
  if (allowInternal) return undefined;
  const host = hostOf(url).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return `${host} is an internal name`;
  if (isIP(host) !== 0 && isInternalAddress(host)) return `${host} is an internal address`;
  return undefined;
}
