import type { GatewayClient } from "../../api/client.js";
import { createProvider, latestBlockTime } from "../../sdk/index.js";
import type { LocalProvider } from "./providers.js";

const HOUR = 3600;
const QUARTER = 900;
/** How long the demo's offers run. */
const OFFER_DAYS = 7;
const WELCOME_CREDITS = "5000";

/** The demo's buyers and auditor, in the users' words. */
export const DEMO_PEOPLE = {
  buyer: { name: "Bea Buyer", email: "bea@renderfarm.example", tenant: "Render Farm Ltd" },
  rival: { name: "Cleo Climate", email: "cleo@climatelab.example", tenant: "Climate Lab" },
  auditor: { name: "Ada Auditor", email: "ada@audit.example" },
} as const;

/** One offer the demo lists: on which of a provider's nodes, and its terms. */
interface DemoOffer {
  provider: number;
  node: number;
  terms: Record<string, unknown>;
}

/** Offers under every price model, with hour and quarter-hour slices and an off-peak window. */
const DEMO_OFFERS: readonly DemoOffer[] = [
  { provider: 0, node: 0, terms: { model: "fixed", pricePerHour: "0.5", sliceSeconds: QUARTER, maxSlices: 16 } },
  { provider: 0, node: 1, terms: { model: "dynamic", pricePerHour: "1.2", surgeBps: 5000, maxSlices: 8 } },
  { provider: 0, node: 2, terms: { model: "auction", pricePerHour: "3", maxSlices: 4 } },
  {
    provider: 0,
    node: 3,
    terms: { model: "fixed", pricePerHour: "0.3", maxSlices: 8, hours: { from: 20, to: 6 } },
  },
  { provider: 1, node: 0, terms: { model: "fixed", pricePerHour: "1", sliceSeconds: QUARTER, maxSlices: 16 } },
  { provider: 1, node: 1, terms: { model: "auction", pricePerHour: "4", maxSlices: 4 } },
  { provider: 1, node: 2, terms: { model: "dynamic", pricePerHour: "0.4", surgeBps: 2500, maxSlices: 8 } },
];

export interface DemoMarket {
  buyers: string[];
  offers: number[];
  leaseId: number;
  bids: string[];
}

/**
 * Seeds a live market through the gateway, as its people would: two buyer tenants with credits,
 * an auditor, offers under every price model on the providers' nodes, a booking that runs now (so
 * an agent provisions it), and sealed bids waiting for their round to clear.
 */
export async function seedDemo(options: {
  admin: GatewayClient;
  rpcUrl: string;
  providers: readonly LocalProvider[];
  password: string;
  onStep?: (label: string) => void;
}): Promise<DemoMarket> {
  const { admin, providers, password } = options;
  const step = options.onStep ?? (() => undefined);
  const login = async (email: string) =>
    admin.as((await admin.post<{ token: string }>("/auth/login", { email, password })).token);

  step("buyers and credits");
  const member = async (who: { name: string; email: string; tenant: string }) => {
    const { tenant } = await admin.post<{ tenant: { tenantId: number } }>("/tenants", { name: who.tenant });
    const created = await admin.post<{ apiKey: string; user: { userId: string } }>(
      `/tenants/${tenant.tenantId}/users`,
      { name: who.name, email: who.email, roles: ["buyer", "tenantAdmin"], password },
    );
    await admin.post("/credits/grant", { userId: created.user.userId, amount: WELCOME_CREDITS, memo: "welcome" });
    return admin.as(created.apiKey);
  };
  const buyer = await member(DEMO_PEOPLE.buyer);
  const rival = await member(DEMO_PEOPLE.rival);
  await admin.post("/users", { ...DEMO_PEOPLE.auditor, roles: ["auditor"], password });

  step("offers");
  const now = await chainTime(options.rpcUrl);
  const hour = Math.floor(now / HOUR) * HOUR;
  const owners = await Promise.all(providers.map((provider) => login(provider.email)));
  const offers: { offerId: number; model: unknown }[] = [];
  for (const { provider, node, terms } of DEMO_OFFERS) {
    const owner = owners[provider];
    const nodeId = providers[provider]?.nodes[node]?.nodeId;
    if (owner === undefined || nodeId === undefined) continue;
    const { offer } = await owner.post<{ offer: { offerId: number } }>("/offers", {
      nodeId,
      start: hour,
      end: hour + OFFER_DAYS * 24 * HOUR,
      sliceSeconds: HOUR,
      ...terms,
    });
    offers.push({ offerId: offer.offerId, model: terms.model });
  }
  const running = offers.find((offer) => offer.model === "fixed")?.offerId;
  const auction = offers.find((offer) => offer.model === "auction")?.offerId;
  if (running === undefined || auction === undefined) {
    throw new Error("the demo needs at least four simulated nodes (set simulatedBmcs.count to 4 or more)");
  }

  step("a running lease");
  const slice = Math.floor((await chainTime(options.rpcUrl)) / QUARTER) * QUARTER;
  const booked = await buyer.post<{ lease: { leaseId: number } }>(`/timeslots/${running}-${slice}/request`, {
    duration: 60,
  });

  step("sealed bids");
  const bidStart = hour + 3 * HOUR;
  const bids: string[] = [];
  for (const [client, price] of [
    [buyer, "3.5"],
    [rival, "4.25"],
  ] as const) {
    const answer = await client.post<{ bid: { bidRef: string } }>(`/timeslots/${auction}-${bidStart}/request`, {
      duration: 120,
      bid: price,
    });
    bids.push(answer.bid.bidRef);
  }
  const pool = await rival.post<{ bidRef: string }>("/bids", { start: bidStart, duration: 60, pricePerHour: "2" });
  bids.push(pool.bidRef);

  return {
    buyers: [DEMO_PEOPLE.buyer.email, DEMO_PEOPLE.rival.email],
    offers: offers.map((offer) => offer.offerId),
    leaseId: booked.lease.leaseId,
    bids,
  };
}

async function chainTime(rpcUrl: string): Promise<number> {
  const provider = createProvider(rpcUrl);
  try {
    return await latestBlockTime(provider);
  } finally {
    provider.destroy();
  }
}
