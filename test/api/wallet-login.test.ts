import { Wallet, type HDNodeWallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { Client, closeMarket, openMarket, withOwnWallet, type Market } from "./helpers.js";

interface Answer {
  token?: string;
  field?: string;
  user?: { email: string; custodial: boolean };
}

describe("signing in with a wallet", () => {
  let m: Market;
  let wallet: HDNodeWallet;
  let anonymous: Client;

  const challengeFor = async (address: string) =>
    (await anonymous.must<{ message: string }>("POST", "/auth/wallet/challenge", { address })).message;

  beforeAll(async () => {
    m = await openMarket();
    anonymous = new Client(m.gateway.url);
    wallet = Wallet.createRandom();
    await m.admin.must(
      "POST",
      `/tenants/${m.tenants.buyers}/users`,
      await withOwnWallet(m.gateway.url, wallet, {
        name: "Wendy Wallet",
        email: "wendy@render.test",
        roles: ["buyer"],
      }),
    );
  });
  afterAll(() => closeMarket(m));

  it("opens a session for the account that signed a live challenge, once", async () => {
    const message = await challengeFor(wallet.address);
    expect(message).toMatch(/wants you to sign in with your Ethereum account:\n0x[0-9a-fA-F]{40}\n/);
    expect(message).toContain("Chain ID: 31337");
    const signature = await wallet.signMessage(message);
    const signedIn = await anonymous.post<Answer>("/auth/wallet", { message, signature });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user).toMatchObject({ email: "wendy@render.test", custodial: false });
    const me = await anonymous.as(signedIn.body.token ?? "").get<{ user: { email: string } }>("/me");
    expect(me.body.user.email).toBe("wendy@render.test");

    // A challenge serves once.
    const replayed = await anonymous.post<Answer>("/auth/wallet", { message, signature });
    expect(replayed.status).toBe(401);
  });

  it("refuses a challenge signed by another account, an edited message, and a custodial user", async () => {
    const message = await challengeFor(wallet.address);
    const intruder = await anonymous.post<Answer>("/auth/wallet", {
      message,
      signature: await Wallet.createRandom().signMessage(message),
    });
    expect(intruder.status).toBe(401);
    expect(intruder.body.field).toBe("body.signature");

    const fresh = await challengeFor(wallet.address);
    const edited = fresh.replace("Sign in to Metalmarket.", "Sign in to something else.");
    expect(
      (await anonymous.post("/auth/wallet", { message: edited, signature: await wallet.signMessage(edited) })).status,
    ).toBe(401);

    // A user whose key the gateway keeps has no wallet to sign with: the key never leaves the gateway.
    const custodial = await challengeFor(m.buyer.address);
    expect(
      (await anonymous.post("/auth/wallet", { message: custodial, signature: `0x${"11".repeat(65)}` })).status,
    ).toBe(401);
  });
});
