/**
 * The portal in a real browser (Debian's Chromium, driven by playwright-core) against the real
 * stack (`market start --demo`, as processes): the main journeys of a buyer, an owner and an
 * admin, with screenshots of each main page in test-results/screenshots/.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { HDNodeWallet } from "ethers";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createProvider, latestBlockTime } from "../../sdk/index.js";
import { Client, DEV_MNEMONIC, withOwnWallet } from "../api/helpers.js";
import { roomToCommit, runStack, type RunningStack } from "../helpers/stack.js";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(import.meta.dirname, "../../test-results/screenshots");
/** Background work (the agent, reveals, clearing) shows in the page within this long. */
const LIVE_TIMEOUT_MS = 30_000;
const HOUR = 3600;
/** How many slices ahead a test looks for a free one. */
const SLICES_TRIED = 8;

const hasChromium = existsSync(CHROMIUM);

describe.skipIf(!hasChromium && process.env.CI === undefined)("the portal in a browser", () => {
  let stack: RunningStack;
  let dataDir: string;
  let browser: Browser;
  let password: string;
  let adminPassword: string;

  /** Moves the chain's clock to `time` (unix seconds) and mines a block there. */
  const advanceTo = async (time: number) => {
    const provider = createProvider(stack.rpcUrl);
    try {
      const now = await latestBlockTime(provider);
      if (time > now) await provider.send("evm_increaseTime", [time - now]);
      await provider.send("evm_mine", []);
    } finally {
      provider.destroy();
    }
  };

  const signIn = async (email: string, secret: string, viewport = { width: 1280, height: 900 }): Promise<Page> => {
    const page = await browser.newPage({ viewport });
    await page.goto(stack.gatewayUrl);
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill(secret);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("navigation", { name: "Portal" }).waitFor();
    return page;
  };

  /** A call to the gateway as a program would make it. */
  const call = <T>(path: string, token?: string, body?: unknown): Promise<T> =>
    new Client(stack.gatewayUrl, token).must<T>(body === undefined ? "GET" : "POST", path, body);

  /** A session token for a person of the demo. */
  const login = async (email: string, secret: string) =>
    (await call<{ token: string }>("/auth/login", undefined, { email, password: secret })).token;

  /** Books the slice under way of an offer of `ownerEmail`'s tenant for `buyerEmail`; answers the lease id. */
  const bookNow = async (buyerEmail: string, secret: string, ownerEmail: string): Promise<number> => {
    const [buyer, owner] = [await login(buyerEmail, secret), await login(ownerEmail, secret)];
    const { user } = await call<{ user: { tenantId: number } }>("/me", owner);
    const { offers } = await call<{
      offers: { offerId: number; model: string; start: number; sliceSeconds: number }[];
    }>(`/offers?tenantId=${user.tenantId}&model=fixed`, owner);
    const provider = createProvider(stack.rpcUrl);
    const now = await latestBlockTime(provider).finally(() => provider.destroy());
    const refusals: string[] = [];
    // The slice under way, or failing that one of the next few (a pending lease can be preempted too).
    for (const offer of offers.filter((o) => o.model !== "auction")) {
      const current = offer.start + Math.floor((now - offer.start) / offer.sliceSeconds) * offer.sliceSeconds;
      for (let ahead = 0; ahead < SLICES_TRIED; ahead++) {
        try {
          const booked = await call<{ lease: { leaseId: number } }>(
            `/timeslots/${offer.offerId}-${current + ahead * offer.sliceSeconds}/request`,
            buyer,
            { duration: offer.sliceSeconds / 60 },
          );
          return booked.lease.leaseId;
        } catch (error) {
          refusals.push(String(error));
        }
      }
    }
    throw new Error(`no offer of ${ownerEmail} is free now: ${refusals.join("; ")}`);
  };

  const shoot = (page: Page, name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "metalmarket-portal-"));
    stack = await runStack(["--demo"], { MARKET_DATA_DIR: dataDir, MARKET_NODES: "4" });
    password = (await readFile(join(dataDir, "secrets", "people.password"), "utf8")).trim();
    adminPassword = (await readFile(join(dataDir, "secrets", "admin.password"), "utf8")).trim();
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Quiet on a closed network: no background connections, no first-run work.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    expect(await stack?.stop()).toBe(0);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("refuses a wrong password with a clear message", async () => {
    const page = await browser.newPage();
    await page.goto(stack.gatewayUrl);
    await shoot(page, "sign-in");
    await page.getByLabel("Email", { exact: true }).fill("bea@renderfarm.example");
    await page.getByLabel("Password", { exact: true }).fill("not her password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/password|credentials/i);
    await page.close();
  });

  it("a buyer's sealed bid is revealed and wins, and the page shows it", async () => {
    const page = await signIn("bea@renderfarm.example", password);
    const now = Math.floor(Date.now() / 1000);
    const from = new Date((Math.ceil(now / HOUR) + 2) * HOUR * 1000).toISOString().slice(0, 16);
    await page.getByLabel("Price model").selectOption("auction");
    await page.getByLabel("From").fill(from);
    await page.getByRole("button", { name: "Search" }).click();
    await page
      .getByRole("button", { name: /^Bid slice/ })
      .first()
      .click();
    await page.getByLabel("Your sealed bid (credits per hour)").fill("9");
    await page.getByRole("button", { name: "Place sealed bid" }).click();
    await page.getByRole("status").filter({ hasText: "Sealed bid placed" }).waitFor();

    await page.getByRole("link", { name: "My bids" }).click();
    // Its row: the cells say 9 exactly (a time of day may hold a 9 too).
    const bid = page
      .getByRole("row")
      .filter({ has: page.getByRole("cell", { name: "9", exact: true }) })
      .filter({ hasText: "committed" });
    await bid.waitFor();
    await shoot(page, "buyer-bids");
    // The page shows the windows to the minute; the clock moves to them to the second.
    const round = await call<{ revealOpensAt: string; revealClosesAt: string }>(
      "/rounds/current",
      await login("bea@renderfarm.example", password),
    );
    await advanceTo(Date.parse(round.revealOpensAt) / 1000);
    await page.getByRole("row").filter({ hasText: "revealed" }).first().waitFor({ timeout: LIVE_TIMEOUT_MS });
    await advanceTo(Date.parse(round.revealClosesAt) / 1000 + 60);
    // Cleared: the bid won its slice, and the lease it made is the buyer's.
    const won = page.getByRole("row").filter({ has: page.getByRole("cell", { name: "matched", exact: true }) });
    await won.filter({ has: page.getByRole("cell", { name: "9", exact: true }) }).waitFor({ timeout: LIVE_TIMEOUT_MS });
    expect(await won.getByRole("cell").nth(6).textContent()).toMatch(/^#\d+$/);
    await shoot(page, "buyer-bid-won");
    await page.close();
  });

  it("a buyer books a slice, watches the lease come up live, and asks for credits", async () => {
    const page = await signIn("bea@renderfarm.example", password);
    await page.getByLabel("Price model").selectOption("fixed");
    await page.getByLabel("Cores (at least)").fill("4");
    await page.getByRole("button", { name: "Search" }).click();
    const firstBook = page.getByRole("button", { name: /^Book slice/ }).first();
    await firstBook.waitFor();
    await shoot(page, "buyer-market");
    const sliceId = ((await firstBook.textContent()) ?? "").replace(/^Book slice /, "");
    await firstBook.click();
    await page.getByRole("button", { name: "Book now" }).click();
    const booked = await page.getByRole("status").filter({ hasText: "Booked: lease" }).textContent();
    const leaseId = Number(/lease (\d+)/.exec(booked ?? "")?.[1]);
    expect(leaseId).toBeGreaterThan(0);

    await page.getByRole("link", { name: "My leases" }).click();
    // The row whose first cell is the lease (a node may carry the same number).
    const row = page.getByRole("row", { name: new RegExp(`^#${leaseId} `) });
    await expect(row.textContent()).resolves.toMatch(/pending/);
    // The slice's start comes; the agent boots the node, and the page follows without a reload.
    await advanceTo(Number(sliceId.split("-")[1]));
    await row.getByText("active").waitFor({ timeout: LIVE_TIMEOUT_MS });
    await page.getByText(`Lease ${leaseId} is ready`).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await row.getByRole("button", { name: `Details of lease ${leaseId}` }).click();
    await page
      .getByRole("region", { name: `Lease ${leaseId}` })
      .getByText(/10\.\d+\.\d+\.\d+/)
      .waitFor();
    await shoot(page, "buyer-leases");

    await page.getByRole("link", { name: "Credits" }).click();
    await page.getByLabel("Amount (credits)").fill("250");
    await page.getByLabel("What for").fill("a render job next week");
    await page.getByRole("button", { name: "Request", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "sent to the credit admins" }).waitFor();
    await shoot(page, "buyer-credits");
    await page.close();
  });

  it("an owner sees their nodes and revenue, prices an offer against the market, and preempts a lease", async () => {
    // A lease running now on one of Northwind's nodes, booked by a buyer through the API.
    const leaseId = await bookNow("bea@renderfarm.example", password, "olivia@northwind.example");
    const page = await signIn("olivia@northwind.example", password);
    await page.getByRole("table", { name: "Nodes", exact: true }).waitFor();
    await page.getByText("Revenue per node (credits)").waitFor();
    await shoot(page, "owner-nodes");
    // A new machine, registered with its profile.
    await page.getByText("Register a machine").click();
    await page.getByLabel("Cores").fill("16");
    await page.getByLabel("Memory (GiB)").fill("96");
    await page.getByLabel("Description").fill("Contoso R740");
    await page.getByRole("button", { name: "Register", exact: true }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /Node #\d+ registered: 16 cores, 96 GiB/ })
      .waitFor();
    await page.getByRole("button", { name: `Preempt lease ${leaseId} for maintenance` }).click();
    await page.getByRole("status").filter({ hasText: "Preempted" }).first().waitFor();

    await page.getByRole("link", { name: "My offers" }).click();
    await page.getByRole("form", { name: "New offer" }).waitFor();
    await expect(page.getByRole("form", { name: "New offer" }).getByRole("status").textContent()).resolves.toMatch(
      /sold|No sales/,
    );
    await page.getByLabel("Price model").selectOption("dynamic");
    await page.getByLabel("Price (credits per hour)").fill("1.5");
    await page.getByLabel("Off-peak only (20:00 to 06:00 UTC)").check();
    await page.getByRole("button", { name: "List offer" }).click();
    const listed = await page.getByRole("status").filter({ hasText: "listed" }).textContent();
    const offerId = /#(\d+)/.exec(listed ?? "")?.[1];
    await page
      .getByRole("row", { name: new RegExp(`^#${offerId} `) })
      .getByText("20:00 to 6:00 UTC")
      .waitFor();
    await shoot(page, "owner-offers");
    await page.close();
  });

  it("an admin grants credits, approves a request, and reads the market and the audit trail", async () => {
    const page = await signIn("admin@metalmarket.local", adminPassword);
    await page.getByRole("link", { name: "Tenants & credits" }).click();
    await page.getByRole("table", { name: "Tenants" }).getByText("Northwind Racks").waitFor();
    await page.getByLabel("Organisation's name").fill("Aurora Labs");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.getByRole("status").filter({ hasText: "(Aurora Labs) created" }).waitFor();
    const newUser = page.getByRole("form", { name: "New user" });
    await newUser.getByLabel("Belongs to").selectOption({ label: "Aurora Labs" });
    await newUser.getByLabel("Name").fill("Ari Aurora");
    await newUser.getByLabel("Email", { exact: true }).fill("ari@aurora.example");
    await newUser.getByLabel("provider").check();
    await page.getByRole("button", { name: "Create user" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /API key, shown once: mm_/ })
      .waitFor();
    await page.getByRole("table", { name: "Users" }).getByText("ari@aurora.example").waitFor();
    const grant = page.getByRole("form", { name: "Grant or take credits" });
    await grant.getByLabel("User").selectOption({ label: "Cleo Climate (cleo@climatelab.example)" });
    await grant.getByLabel("Amount (credits)").fill("75");
    await grant.getByLabel("Memo (for the audit trail)").fill("conference credit");
    await page.getByRole("button", { name: "Grant", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Done." }).waitFor();
    const request = page.getByRole("table", { name: "Pending credit requests" }).getByRole("row").filter({
      hasText: "a render job next week",
    });
    await request.getByRole("button", { name: /^Approve/ }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /Approved: request #\d+, 250 credits granted/ })
      .waitFor();
    await shoot(page, "admin-tenants");

    await page.getByRole("link", { name: "Market overview" }).click();
    await page.getByText("Active leases").waitFor();
    await shoot(page, "admin-overview");

    await page.getByRole("link", { name: "Audit trail" }).click();
    await page.getByLabel("Event names").fill("CreditsGranted");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("cell", { name: "CreditsGranted" }).first().waitFor();
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    expect((await download).suggestedFilename()).toBe("metalmarket-audit.csv");
    await expect(page.getByRole("status").filter({ hasText: "Exported" }).textContent()).resolves.toMatch(
      /Exported \d+ events/,
    );
    await shoot(page, "admin-audit");
    await page.close();
  });

  it("a wallet user signs in with their browser wallet and books with their own signature", async () => {
    // The wallet: one of the chain's development accounts, behind an EIP-1193 provider in the page.
    const wallet = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/9");
    const account = wallet.address;
    const admin = (await readFile(join(dataDir, "state", "admin.api-key"), "utf8")).trim();
    const { tenants } = await call<{ tenants: { tenantId: number; name: string }[] }>("/tenants", admin);
    const renderFarm = tenants.find((t) => t.name === "Render Farm Ltd")?.tenantId;
    const { user } = await call<{ user: { userId: string } }>(
      `/tenants/${renderFarm}/users`,
      admin,
      await withOwnWallet(stack.gatewayUrl, wallet, {
        name: "Walt Wallet",
        email: "walt@renderfarm.example",
        roles: ["buyer"],
      }),
    );
    await call("/credits/grant", admin, { userId: user.userId, amount: "100" });

    const chain = createProvider(stack.rpcUrl);
    const page = await browser.newPage();
    const signed: string[] = [];
    await page.exposeFunction("__wallet", async ({ method, params }: { method: string; params?: unknown[] }) => {
      signed.push(method);
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [account];
      // The chain's node holds the development account's key, as the wallet would.
      return chain.send(method, params ?? []);
    });
    await page.addInitScript(() => {
      const bridge = (window as unknown as { __wallet: (args: unknown) => Promise<unknown> }).__wallet;
      (window as unknown as { ethereum: unknown }).ethereum = { request: (args: unknown) => bridge(args) };
    });
    try {
      await page.goto(stack.gatewayUrl);
      await page.getByRole("button", { name: "Sign in with your wallet" }).click();
      await page.getByRole("navigation", { name: "Portal" }).waitFor();
      await page.getByLabel("Price model").selectOption("fixed");
      await page.getByRole("button", { name: "Search" }).click();
      await page
        .getByRole("button", { name: /^Book slice/ })
        .first()
        .click();
      await page.getByRole("button", { name: "Book now" }).click();
      await page
        .getByRole("status")
        .filter({ hasText: "Booked with your wallet" })
        .waitFor({ timeout: LIVE_TIMEOUT_MS });
      expect(signed).toEqual(expect.arrayContaining(["eth_requestAccounts", "personal_sign", "eth_sendTransaction"]));
      await page.getByRole("link", { name: "My leases" }).click();
      await page.getByRole("table", { name: "Leases" }).getByRole("row").nth(1).waitFor({ timeout: LIVE_TIMEOUT_MS });
      await shoot(page, "wallet-leases");

      // A sealed bid from the wallet: sealed in the browser, revealed and cleared by the portal.
      // Round 1 was cleared by the first bid test; the offer is listed again in the round open now.
      await roomToCommit(stack.rpcUrl, join(dataDir, "state", "deployments"));
      const owner = await login("omar@bluefin.example", password);
      const ownerTenant = (await call<{ user: { tenantId: number } }>("/me", owner)).user.tenantId;
      const { offers } = await call<{ offers: { offerId: number }[] }>(
        `/offers?tenantId=${ownerTenant}&model=auction`,
        owner,
      );
      const auction = offers[0]?.offerId;
      await call(`/offers/${auction}/enroll`, owner, { reservePerHour: "1" });
      const round = await call<{ revealOpensAt: string; revealClosesAt: string }>("/rounds/current", owner);
      await page.getByRole("link", { name: "Market" }).click();
      await page.getByLabel("Price model").selectOption("auction");
      await page
        .getByLabel("From")
        .fill(new Date((Math.ceil(Date.now() / 1000 / HOUR) + 4) * HOUR * 1000).toISOString().slice(0, 16));
      await page.getByRole("button", { name: "Search" }).click();
      await page
        .getByRole("button", { name: /^Bid slice/ })
        .first()
        .click();
      await page.getByLabel("Your sealed bid (credits per hour)").fill("2");
      await page.getByRole("button", { name: "Place sealed bid" }).click();
      await page
        .getByRole("status")
        .filter({ hasText: "Sealed with your wallet" })
        .waitFor({ timeout: LIVE_TIMEOUT_MS });
      await page.getByRole("link", { name: "My bids" }).click();
      const sealed = page
        .getByRole("row")
        .filter({ has: page.getByRole("cell", { name: `#${auction}`, exact: true }) });
      await sealed.getByText("committed").waitFor();
      await advanceTo(Date.parse(round.revealOpensAt) / 1000);
      await sealed.getByText("revealed").waitFor({ timeout: LIVE_TIMEOUT_MS });
      await advanceTo(Date.parse(round.revealClosesAt) / 1000);
      await sealed.getByText(/won: lease #\d+/).waitFor({ timeout: LIVE_TIMEOUT_MS });
      expect(signed.filter((method) => method === "eth_sendTransaction").length).toBeGreaterThanOrEqual(4);
      await shoot(page, "wallet-bids");
    } finally {
      await page.close();
      chain.destroy();
    }
  });

  it("fits a phone: no sideways scrolling, every page reachable", async () => {
    const page = await signIn("bea@renderfarm.example", password, { width: 390, height: 844 });
    await page
      .getByRole("button", { name: /^(Book|Bid) slice/ })
      .first()
      .waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shoot(page, "phone-market");
    // Keyboard only: the skip link comes first, then the navigation.
    await page.keyboard.press("Tab");
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe("Skip to content");
    await page.close();
  });
});
