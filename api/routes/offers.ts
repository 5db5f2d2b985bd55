import { z } from "zod";

import { PriceModel, OfferStatus } from "../../sdk/index.js";
import { invalidInput, notFound } from "../errors.js";
import { chainIdInput, idParam, instant, priceInput, span, UINT32_MAX } from "../http/schemas.js";
import { PRICE_MODELS, findOffer, listOffers, offerView, resourcesSchema, type OfferRow } from "../readmodel/offers.js";
import { type Services } from "../services.js";
import { eventOf } from "../transactions.js";
import { route } from "./define.js";
import { nodeRow, requireNodeManager } from "./nodes.js";

export const offerSchema = z.object({
  offerId: z.number(),
  nodeId: z.number(),
  tenantId: z.number(),
  seller: z.string(),
  start: z.number().describe("unix seconds"),
  end: z.number().describe("unix seconds"),
  sliceSeconds: z.number(),
  minSlices: z.number(),
  maxSlices: z.number(),
  hours: z.object({ from: z.number(), to: z.number() }).nullable().describe("daily hours (UTC) it may be used"),
  model: z.enum(["fixed", "dynamic", "auction"]),
  basePricePerHour: z.string().nullable(),
  pricePerHour: z.string().nullable().describe("the posted price now; null for a sealed reserve"),
  surgeBps: z.number(),
  roundId: z.number().nullable(),
  status: z.string(),
  createdAt: z.number(),
  lastSoldAt: z.number().nullable(),
  resources: resourcesSchema,
});

async function offerRow(services: Services, offerId: number): Promise<OfferRow> {
  const row = await findOffer(services.db, offerId);
  if (row === undefined) throw notFound(`offer ${offerId}`);
  return row;
}

const ZERO_HASH = `0x${"00".repeat(32)}`;

export const offerRoutes = [
  route({
    method: "get",
    path: "/offers",
    tag: "offers",
    summary: "Offers, by node, tenant, model and status; `dormantFor` finds open offers unsold that long",
    description: "`dormantFor` is seconds or a number with a unit (`12h`, `7d`): open offers with no sale since.",
    access: "user",
    query: z
      .object({
        nodeId: z.coerce.number().int().positive().optional(),
        tenantId: z.coerce.number().int().positive().optional(),
        model: z.enum(["fixed", "dynamic", "auction"]).optional(),
        status: z.enum(["open", "closed"]).optional(),
        dormantFor: span.optional(),
      })
      .strict(),
    response: z.object({ offers: z.array(offerSchema) }),
    async handler({ query, services }) {
      const rows = await listOffers(services.db, {
        nodeId: query.nodeId,
        tenantId: query.tenantId,
        model: query.model === undefined ? undefined : PRICE_MODELS.indexOf(query.model),
        status:
          query.status === undefined ? undefined : query.status === "open" ? OfferStatus.Open : OfferStatus.Closed,
        unsoldSince: query.dormantFor === undefined ? undefined : (await services.chainTime()) - query.dormantFor,
      });
      return { offers: rows.map(offerView) };
    },
  }),

  route({
    method: "get",
    path: "/offers/:offerId",
    tag: "offers",
    summary: "One offer, with its posted price now",
    access: "user",
    params: idParam("offerId"),
    response: offerSchema,
    async handler({ params, services }) {
      return offerView(await offerRow(services, params.offerId));
    },
  }),

  route({
    method: "post",
    path: "/offers",
    tag: "offers",
    summary: "List a node: its window, slice length and limits, daily hours, and price model",
    description:
      "`start` must fall on the node's calendar unit; prices are credits per hour; `hours` limits use to daily " +
      "UTC hours (e.g. off-peak 20 to 6). An auction's `pricePerHour` is its reserve, public unless " +
      "`sealedReserve`; it enters the current round at once. A sealed reserve stays secret (the gateway keeps it " +
      "and its salt sealed) until the round's reveal window opens, when the gateway reveals it.",
    access: ["provider"],
    status: 201,
    body: z
      .object({
        nodeId: chainIdInput,
        start: instant,
        end: instant,
        sliceSeconds: z.number().int().positive().max(UINT32_MAX),
        minSlices: z.number().int().min(1).max(65_535).default(1),
        maxSlices: z.number().int().min(1).max(65_535),
        hours: z.object({ from: z.number().int().min(0).max(23), to: z.number().int().min(0).max(23) }).optional(),
        model: z.enum(["fixed", "dynamic", "auction"]),
        pricePerHour: priceInput,
        surgeBps: z.number().int().min(0).max(65_535).default(0).describe("dynamic: the most the price rises, in bps"),
        sealedReserve: z
          .boolean()
          .default(false)
          .describe("auction: keep `pricePerHour` secret until the round's reveal window"),
      })
      .strict(),
    response: z.object({ offer: offerSchema, txHash: z.string() }),
    async handler({ body, caller, services }) {
      requireNodeManager(caller, await nodeRow(services, body.nodeId));
      if (body.end <= body.start) throw invalidInput("body.end", "must be after start");
      if (body.sealedReserve && body.model !== "auction") {
        throw invalidInput("body.sealedReserve", "only an auction offer has a reserve");
      }
      const sealed = body.sealedReserve
        ? await services.reserves.seal(caller, body.nodeId, body.pricePerHour)
        : undefined;
      const sent = await services.reserves.enrolling(sealed, () =>
        services.send(caller, (c) =>
          c.offers.createOffer({
            nodeId: body.nodeId,
            start: body.start,
            end: body.end,
            sliceSeconds: body.sliceSeconds,
            minSlices: body.minSlices,
            maxSlices: body.maxSlices,
            fromHour: body.hours?.from ?? 0,
            toHour: body.hours?.to ?? 0,
            model: PRICE_MODELS.indexOf(body.model),
            pricePerHour: sealed === undefined ? body.pricePerHour : 0n,
            surgeBps: body.model === "dynamic" ? body.surgeBps : 0,
            sealedReserve: sealed?.commitment ?? ZERO_HASH,
          }),
        ),
      );
      const offerId = Number(eventOf(sent, "OfferCreated").args.offerId);
      return { offer: offerView(await offerRow(services, offerId)), txHash: sent.txHash };
    },
  }),

  route({
    method: "post",
    path: "/offers/:offerId/close",
    tag: "offers",
    summary: "Stop an offer taking bookings (leases already made go on)",
    access: ["provider", "tenantAdmin"],
    params: idParam("offerId"),
    response: z.object({ offer: offerSchema, txHash: z.string() }),
    async handler({ params, caller, services }) {
      const offer = await offerRow(services, params.offerId);
      requireNodeManager(caller, offer);
      const sent = await services.send(caller, (c) => c.offers.closeOffer(params.offerId));
      return { offer: offerView(await offerRow(services, params.offerId)), txHash: sent.txHash };
    },
  }),

  route({
    method: "post",
    path: "/offers/:offerId/price",
    tag: "offers",
    summary: "Change a fixed offer's price, or a dynamic offer's base price (credits per hour)",
    access: ["provider"],
    params: idParam("offerId"),
    body: z.object({ pricePerHour: priceInput }).strict(),
    response: z.object({ offer: offerSchema, txHash: z.string() }),
    async handler({ params, body, caller, services }) {
      requireNodeManager(caller, await offerRow(services, params.offerId));
      const sent = await services.send(caller, (c) => c.offers.setPrice(params.offerId, body.pricePerHour));
      return { offer: offerView(await offerRow(services, params.offerId)), txHash: sent.txHash };
    },
  }),

  route({
    method: "post",
    path: "/offers/:offerId/enroll",
    tag: "offers",
    summary: "Put an auction offer into the current round, with a reserve (credits per hour), public or sealed",
    description:
      "With `sealed`, the reserve stays secret until the round's reveal window opens, when the gateway reveals " +
      "it; a sealed reserve still unrevealed at clearing counts as none.",
    access: ["provider"],
    params: idParam("offerId"),
    body: z.object({ reservePerHour: priceInput, sealed: z.boolean().default(false) }).strict(),
    response: z.object({ offer: offerSchema, txHash: z.string() }),
    async handler({ params, body, caller, services }) {
      const offer = await offerRow(services, params.offerId);
      requireNodeManager(caller, offer);
      if (Number(offer.model) !== PriceModel.Auction) throw invalidInput("path.offerId", "not an auction offer");
      const sealed = body.sealed
        ? await services.reserves.seal(caller, Number(offer.node_id), body.reservePerHour)
        : undefined;
      const sent = await services.reserves.enrolling(sealed, () =>
        services.send(caller, (c) =>
          sealed === undefined
            ? c.offers.enrollInRound(params.offerId, body.reservePerHour, ZERO_HASH)
            : c.offers.enrollInRound(params.offerId, 0n, sealed.commitment),
        ),
      );
      return { offer: offerView(await offerRow(services, params.offerId)), txHash: sent.txHash };
    },
  }),
];
