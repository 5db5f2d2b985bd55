import { describe, expect, it } from "vitest";

import { createLogger } from "../../sdk/log.js";

describe("the log of the gateway and the agent", () => {
  it("writes one JSON line per event and masks secret-sounding fields at any depth", () => {
    const lines: string[] = [];
    const log = createLogger("info", (line) => lines.push(line));
    log.debug("not shown");
    log.info("logged in", {
      bmc: "https://10.0.0.17",
      password: "hunter2",
      session: { token: "abc", id: 7 },
      gas: 21_000n,
    });

    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "");
    expect(entry).toMatchObject({
      level: "info",
      message: "logged in",
      bmc: "https://10.0.0.17",
      password: "[redacted]",
      session: { token: "[redacted]", id: 7 },
      gas: "21000",
    });
    expect(lines[0]).not.toContain("hunter2");
  });
});
