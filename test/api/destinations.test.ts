import { describe, expect, it } from "vitest";

import { isInternalAddress, refusedDestination, refusedImage } from "../../api/notify/destinations.js";

describe("where a user's URL may point", () => {
  it("lets public IPv4 and IPv6 destinations through and stops internal ones", async () => {
    expect(await refusedDestination("https://93.184.216.34/hooks", false)).toBeUndefined();
    expect(await refusedDestination("https://[2606:2800:220:1:248:1893:25c8:1946]/hooks", false)).toBeUndefined();
    for (const url of [
      "https://10.1.2.3/hooks",
      "https://127.0.0.1/hooks",
      "https://169.254.169.254/latest",
      "https://[::1]/hooks",
      "https://[::ffff:127.0.0.1]/hooks",
      "https://[::ffff:a00:1]/hooks",
      "https://[fd00::1]/hooks",
    ]) {
      expect(await refusedDestination(url, false), url).toMatch(/internal address/);
    }
    expect(await refusedDestination("https://127.0.0.1/hooks", true)).toBeUndefined();
  });

  it("reads IPv4-mapped IPv6 as the IPv4 address it is", () => {
    expect(isInternalAddress("::ffff:8.8.8.8")).toBe(false);
    expect(isInternalAddress("::ffff:192.168.1.1")).toBe(true);
    expect(isInternalAddress("8.8.8.8")).toBe(false);
  });

  it("takes boot images over http(s) only, and internal ones only when the operator allows", () => {
    expect(refusedImage("https://images.example/ubuntu.iso", false)).toBeUndefined();
    expect(refusedImage("file:///etc/passwd", false)).toMatch(/http\(s\)/);
    expect(refusedImage("http://10.0.0.5/ubuntu.iso", false)).toMatch(/internal/);
    expect(refusedImage("http://10.0.0.5/ubuntu.iso", true)).toBeUndefined();
    expect(refusedImage("file:///etc/passwd", true)).toMatch(/http\(s\)/);
  });
});
