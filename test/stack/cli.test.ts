import { execFile } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

import { HDNodeWallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DEV_MNEMONIC, closeMarket, listOffer, openMarket, withOwnWallet, type Market } from "../api/helpers.js";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "../../scripts/market.js");
const COMMANDS = ["tenants", "users", "credits", "nodes", "offers", "timeslots", "bids", "leases", "prices", "audit"];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `market <args>`; answers its exit code and output instead of throwing. */
async function market(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("the market CLI", () => {
  let m: Market;
  let asAdmin: string[];

  beforeAll(async () => {
    m = await openMarket();
    const keyFile = join(m.chain.directory, "admin.key");
    await writeFile(keyFile, m.admin.token ?? "", { mode: 0o600 });
    asAdmin = ["--gateway", m.gateway.url, "--api-key-file", keyFile];
  });
  afterAll(() => closeMarket(m));

  it("explains every command with --help", async () => {
    const top = await market(["--help"]);
    expect(top.code).toBe(0);
    for (const command of COMMANDS) {
      expect(top.stdout).toContain(command);
      const help = await market([command, "--help"]);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toContain(`Usage: market ${command}`);
    }
    const grant = await market(["credits", "grant", "--help"]);
    expect(grant.stdout).toMatch(/Usage: market credits grant \[options\] <who> <amount>/);
    expect(grant.stdout).toContain("--json");
  });

  it("prints tables for people and JSON for scripts", async () => {
    const table = await market(["tenants", "list", ...asAdmin]);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trim().split("\n");
    expect(header).toMatch(/^ID\s+NAME\s+STATUS\s+MEMBERS\s+NODES\s+CREATED$/);
    expect(rows.map((row) => row.split(/\s{2,}/)[1])).toEqual(["Rack Owners", "Render Farm", "Climate Lab"]);

    const json = await market(["nodes", "list", "--cpu", "8", "--json", ...asAdmin]);
    const { nodes } = JSON.parse(json.stdout) as { nodes: { nodeId: number }[] };
    expect(nodes.map((node) => node.nodeId)).toEqual([m.nodes.big]);
  });

  it("fails with the gateway's problem, naming the field, and a non-zero exit code", async () => {
    const refused = await market(["credits", "grant", "not-a-user", "5", ...asAdmin]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^market: The request is not valid: body\.userId: Invalid uuid\n$/);

    const away = await market(["tenants", "list", "--gateway", "http://127.0.0.1:1", "--api-key", "mm_x_y"]);
    expect(away.code).toBe(1);
    expect(away.stderr).toMatch(/market: cannot reach the gateway at http:\/\/127\.0\.0\.1:1/);

    const keyless = await market(["tenants", "list", "--gateway", m.gateway.url, "--api-key-file", "/nonexistent"]);
    expect(keyless.stderr).toBe("market: cannot read the API key file /nonexistent\n");
  });

  /** Runs a command signed on the chain by `wallet` itself, and parses its JSON answer. */
  const signingAs =
    (wallet: HDNodeWallet) =>
    async (...args: string[]): Promise<unknown> => {
      const outcome = await market(
        [...args, "--rpc", m.chain.rpcUrl, "--deployments", join(m.chain.directory, "deployments"), "--json"],
        { MARKET_PRIVATE_KEY: wallet.privateKey },
      );
      if (outcome.code !== 0) throw new Error(`market ${args.join(" ")}: ${outcome.stderr}`);
      return JSON.parse(outcome.stdout) as unknown;
    };

  it("signs with a wallet of one's own: deposits, commits a sealed bid, reveals it in its window and clears its round", async () => {
    const wallet = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/7");
    const created = await m.admin.must<{ user: { userId: string } }>(
      "POST",
      `/tenants/${m.tenants.buyers}/users`,
      await withOwnWallet(m.gateway.url, wallet, {
        name: "Wendy Wallet",
        email: "wendy@render.test",
        roles: ["buyer"],
      }),
    );
    await m.admin.must("POST", "/credits/grant", { userId: created.user.userId, amount: "100" });
    const start = m.hour + 3 * 3600;
    const auction = await listOffer(m, { nodeId: m.nodes.big, start, model: "auction", pricePerHour: "1" });
    const bidsFile = join(m.chain.directory, "wendy-bids.json");
    const onChain = signingAs(wallet);

    await onChain("credits", "deposit", "60");
    expect(await onChain("credits", "balance")).toMatchObject({ wallet: "40", available: "60", escrowed: "0" });

    const bid = (await onChain(
      ...["bids", "commit", "--offer", String(auction), "--start", String(start), "--duration", "60"],
      ...["--price", "3", "--deposit", "10", "--bids-file", bidsFile],
    )) as { commitment: string; terms: { roundId: string }; revealWindow: { opensAt: number; closesAt: number } };
    expect(await onChain("credits", "balance")).toMatchObject({ available: "50", escrowed: "10" });
    expect(await onChain("bids", "reveal", "--bids-file", bidsFile)).toEqual([]);

    await m.chain.advance(bid.revealWindow.opensAt - (await m.chain.now()));
    const revealed = await onChain("bids", "reveal", "--bids-file", bidsFile);
    expect(revealed).toMatchObject([{ commitment: bid.commitment, from: "committed", state: "revealed" }]);
    const status = (await onChain("bids", "status", "--bids-file", bidsFile)) as { state: string }[];
    expect(status.map((b) => b.state)).toEqual(["revealed"]);

    // Once the window closes, the same command clears the round (chunks sized by gas), if nobody has.
    await m.chain.advance(bid.revealWindow.closesAt - (await m.chain.now()));
    const cleared = await onChain("bids", "reveal", "--bids-file", bidsFile);
    expect(cleared).toMatchObject([{ commitment: bid.commitment, from: "revealed", state: "cleared" }]);
    expect(await m.gateway.services.market.market.isRoundCleared(Number(bid.terms.roundId))).toBe(true);
    // Won at 3 an hour for an hour: the lease's 3 stay escrowed until it is settled, the rest is back.
    expect(await onChain("credits", "balance")).toMatchObject({ available: "57", escrowed: "3" });
  });

  it("lists an auction with a sealed reserve from a wallet, keeps its salt in a 0600 file, and reveals it", async () => {
    const wallet = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/8");
    await m.admin.must(
      "POST",
      `/tenants/${m.tenants.provider}/users`,
      await withOwnWallet(m.gateway.url, wallet, { name: "Pat Provider", email: "pat@dc.test", roles: ["provider"] }),
    );
    const onChain = signingAs(wallet);
    const reservesFile = join(m.chain.directory, "pat-reserves.json");
    const start = m.hour + 5 * 3600;
    const created = (await onChain(
      ...["offers", "create", "--node", String(m.nodes.small), "--model", "auction", "--price", "4"],
      ...["--start", String(start), "--end", String(start + 4 * 3600), "--sealed-reserve"],
      ...["--reserves-file", reservesFile],
    )) as { events: { name: string; args: { offerId?: string; roundId?: string } }[] };
    const enrolled = created.events.find((event) => event.name === "OfferEnrolled");
    const offerId = Number(enrolled?.args.offerId);
    const { offers } = m.gateway.services.market;
    expect((await offers.offerOf(offerId)).reserveSealed).toBe(true);
    expect((await stat(reservesFile)).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(await readFile(reservesFile, "utf8")) as { offerId: number; state: string }[];
    expect(kept).toMatchObject([{ offerId, state: "enrolled" }]);
    expect(await onChain("offers", "reveal-reserves", "--reserves-file", reservesFile)).toEqual([]);

    const [opensAt] = await m.gateway.services.market.market.revealWindow(Number(enrolled?.args.roundId));
    await m.chain.advance(Number(opensAt) - (await m.chain.now()));
    const revealed = (await onChain("offers", "reveal-reserves", "--reserves-file", reservesFile)) as {
      offerId: number;
    }[];
    expect(revealed.map((r) => r.offerId)).toEqual([offerId]);
    const offer = await offers.offerOf(offerId);
    expect([offer.reserveSealed, offer.pricePerHour]).toEqual([false, 4_000_000n]);
  });
});
