import { describe, expect, it } from "vitest";

import { deploySettingsFromEnv, describeDeployment } from "../../scripts/lib/deploy-settings.js";

describe("Deployment settings from the environment", () => {
  it("reads every MARKET_* setting, as numbers where numbers are meant", () => {
    const options = deploySettingsFromEnv({
      MARKET_ADMIN: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      MARKET_COMMIT_SECONDS: "1200",
      MARKET_REVEAL_SECONDS: "600",
      MARKET_PENALTY_BPS: "500",
      MARKET_PROVISION_GRACE_SECONDS: "300",
      MARKET_PREEMPTION_NOTICE_SECONDS: "0",
      MARKET_CANCELLATION_BPS: "250",
    });
    expect(options).toMatchObject({
      admin: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      schedule: { commitSeconds: 1200, revealSeconds: 600, penaltyBps: 500 },
      provisionGraceSeconds: 300,
      preemptionNoticeSeconds: 0,
      cancellationBps: 250,
    });
  });

  it("leaves everything to the defaults when nothing is set", () => {
    expect(deploySettingsFromEnv({})).toMatchObject({ admin: undefined, schedule: { commitSeconds: undefined } });
  });

  it("names the variable at fault", () => {
    expect(() => deploySettingsFromEnv({ MARKET_COMMIT_SECONDS: "ten" })).toThrow(/MARKET_COMMIT_SECONDS/);
    expect(() => deploySettingsFromEnv({ MARKET_PENALTY_BPS: "20000" })).toThrow(/MARKET_PENALTY_BPS/);
    expect(() => deploySettingsFromEnv({ MARKET_TREASURY: "nobody" })).toThrow(/MARKET_TREASURY: not an address/);
  });

  it("summarises a deployment in aligned lines", () => {
    const text = describeDeployment({
      chainId: 1337,
      contracts: { market: "0xabc" },
      schedule: { commitSeconds: 600, revealSeconds: 300, penaltyBps: 1000 },
    });
    expect(text.split("\n")).toEqual([
      "  chain id  1337",
      "  market    0xabc",
      "  rounds    600 s to commit, 300 s to reveal; unrevealed bids lose 10%",
    ]);
  });
});
