import { isIP } from "node:net";

/** A key and a self-signed certificate (PEM) for a simulated BMC; the certificate is its own CA. */
export interface SelfSignedTls {
  key: string;
  cert: string;
}

/**
 * A self-signed certificate naming `hosts` (IP addresses or DNS names), valid for `days`. A client
 * trusts the BMC by taking `cert` as its CA (`caFile` in the agent's settings).
 */
export async function selfSignedTls(hosts: readonly string[], days = 30): Promise<SelfSignedTls> {
  // `selfsigned` is a devDependency: loaded only when TLS is asked for, so the rest runs without it.
  const { generate } = await import("selfsigned").catch((cause: unknown) => {
    throw new Error("serving the BMC simulator over TLS needs the npm package selfsigned (npm install selfsigned)", {
      cause,
    });
  });
  const pems = await generate([{ name: "commonName", value: hosts[0] ?? "localhost" }], {
    notAfterDate: new Date(Date.now() + days * 24 * 3600 * 1000),
    keyType: "ec",
    extensions: [
      { name: "basicConstraints", cA: true },
      {
        name: "subjectAltName",
        altNames: hosts.map((host) => (isIP(host) === 0 ? { type: 2, value: host } : { type: 7, ip: host })),
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
