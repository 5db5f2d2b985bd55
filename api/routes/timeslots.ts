import { z } from "zod";

import { PriceModel } from "../../sdk/index.js";
import { conflict, forbidden, invalidInput, notFound } from "../errors.js";
import { route } from "./define.js";
import { JsonText } from "../http/route.js";
import {
  chainIdInput,
  credits,
  creditsInput,
  instant,
  isoTime,
  minutesInput,
  pageQuery,
  priceInput,
} from "../http/schemas.js";
import type { User } from "../identity/users.js";
import {
  leaseRow,
  leasesHolding,
  leaseView,
  leaseSchema,
  usageOf,
  usageSchema,
  type LeaseRow,
} from "../readmodel/leases.js";
import {
  findFreeSlices,
  findOffer,
  modelName,
  parseSliceId,
  postedPrice,
  resourcesOf,
  resourcesSchema,
  type OfferRow,
} from "../readmodel/offers.js";
import { bootImage, requireOwnLease, type Services } from "../services.js";
import { eventOf, withCredits } from "../transactions.js";
import { fetchAgentSamples } from "./usage-samples.js";
import { sealedBidSchema, sealedBidView } from "./bids.js";

const sliceParam = z
  .object({ sliceId: z.string().regex(/^\d{1,10}-\d{1,11}$/, "`<offerId>-<start>`, as `GET /timeslots` gives") })
  .strict();

export const sliceSchema = z.object({
  sliceId: z.string().describe("`<offerId>-<start unix seconds>`"),
  offerId: z.number(),
  nodeId: z.number(),
  start: z.string(),
  end: z.string(),
  sliceSeconds: z.number(),
  minSlices: z.number(),
  maxSlices: z.number(),
  model: z.enum(["fixed", "dynamic", "auction"]),
  pricePerHour: z.string().nullable().describe("credits per hour; an auction's public reserve, null when sealed"),
  roundId: z.number().nullable().describe("auction: the round the offer is enrolled in"),
  resources: resourcesSchema,
});

const requestBody = z
  .object({
    duration: minutesInput.describe("minutes, a whole number of the offer's slices"),
    bid: priceInput
      .optional()
      .describe("credits per hour: the sealed bid for an auction; the most you pay for a fixed or dynamic price"),
    deposit: creditsInput
      .optional()
      .describe("auction only: credits to escrow, at least the bid's cost; default: the 1-2-5 bucket above it"),
    image: z.string().url().optional().describe("the image the node boots; the gateway's default when omitted"),
    replacesLease: chainIdInput.optional().describe("a lease of yours to release once this one runs"),
  })
  .strict();

const requestAnswer = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("lease"), state: z.literal("booked"), txHash: z.string(), lease: leaseSchema }),
  z.object({ kind: z.literal("bid"), state: z.literal("committed"), txHash: z.null(), bid: sealedBidSchema }),
]);

/** The time-slice API of the spec: search, request, usage, release. */
export const timeslotRoutes = [
  route({
    method: "get",
    path: "/timeslots",
    tag: "time-slices",
    summary: "Free time-slices that meet resource needs in a time range",
    description:
      "Each slice is one slice of an offer (its `sliceSeconds` long), free now. `cpu` is cores, `ram` GiB; " +
      "`start` and `end` are ISO 8601 or unix seconds. Prices are credits per hour. Earliest listed offers first.",
    access: "user",
    query: z
      .object({
        cpu: z.coerce.number().int().min(0).default(0),
        ram: z.coerce.number().min(0).default(0),
        start: instant.optional(),
        end: instant.optional(),
        model: z.enum(["fixed", "dynamic", "auction"]).optional(),
        maxPrice: priceInput.optional().describe("credits per hour"),
        after: z
          .string()
          .regex(/^\d{1,10}-\d{1,11}$/)
          .optional()
          .describe("the last sliceId of the previous page"),
        ...pageQuery,
      })
      .strict(),
    response: z.object({ slices: z.array(sliceSchema), next: z.string().nullable() }),
    async handler({ query, services }) {
      const now = services.readModelTime();
      const start = query.start ?? now;
      const end = query.end ?? start + 7 * 86_400;
      if (end <= start) throw invalidInput("query.end", "must be after start");
      // The clock matters once the range has begun (slices already under way are left out); until
      // then the answer is the same all along, and so is its key.
      const clock = Math.max(start, now);
      const key = JSON.stringify([
        query.cpu,
        query.ram,
        start,
        end,
        clock,
        query.model ?? null,
        query.maxPrice?.toString() ?? null,
        query.after ?? null,
        query.limit,
      ]);
      const answer = services.answers.timeslots.get(key, async () => {
        const found = await findFreeSlices(services.db, {
          cpu: query.cpu,
          ramGiB: Math.ceil(query.ram),
          start,
          end,
          now,
          model: query.model,
          maxPricePerHour: query.maxPrice,
          limit: query.limit,
          after: query.after === undefined ? undefined : parseSliceId(query.after),
        });
        const slices = found.map(({ sliceId, offer, start: s, end: e }) => ({
          sliceId,
          offerId: Number(offer.offer_id),
          nodeId: Number(offer.node_id),
          start: isoTime(s) ?? "",
          end: isoTime(e) ?? "",
          sliceSeconds: Number(offer.slice_seconds),
          minSlices: Number(offer.min_slices),
          maxSlices: Number(offer.max_slices),
          model: modelName(Number(offer.model)),
          pricePerHour: credits(postedPrice(offer)),
          roundId: Number(offer.model) === PriceModel.Auction ? Number(offer.round_id) : null,
          resources: resourcesOf(offer),
        }));
        return JSON.stringify({
          slices,
          next: slices.length === query.limit ? (slices.at(-1)?.sliceId ?? null) : null,
        });
      });
      return new JsonText(await answer);
    },
  }),

  route({
    method: "post",
    path: "/timeslots/:sliceId/request",
    tag: "time-slices",
    summary: "Book a slice at its posted price, or bid sealed on an auction",
    description:
      "`duration` is in minutes; `bid` in credits per hour. A fixed or dynamic offer is booked at once and " +
      "answers the lease; an auction offer gets a sealed bid in the current round, which the gateway reveals " +
      "in the reveal window and clears after it.",
    access: ["buyer"],
    params: sliceParam,
    body: requestBody,
    status: 201,
    response: requestAnswer,
    async handler({ params, body, caller, services }) {
      const { offer, start } = await sliceOffer(services, params.sliceId);
      const seconds = body.duration * 60;
      const slice = Number(offer.slice_seconds);
      if (seconds % slice !== 0) {
        throw invalidInput("body.duration", `must be a whole number of ${slice / 60}-minute slices`);
      }
      const slices = seconds / slice;
      if (slices < offer.min_slices || slices > offer.max_slices) {
        throw invalidInput(
          "body.duration",
          `must be ${(offer.min_slices * slice) / 60} to ${(offer.max_slices * slice) / 60} minutes`,
        );
      }
      if (body.replacesLease !== undefined) await requireOwnLease(services, caller, body.replacesLease);
      if (Number(offer.model) !== PriceModel.Auction && body.deposit !== undefined) {
        throw invalidInput("body.deposit", "only a sealed bid on an auction escrows a deposit; leave it out");
      }
      if (Number(offer.model) === PriceModel.Auction) {
        if (body.bid === undefined) throw invalidInput("body.bid", "an auction needs a bid (credits per hour)");
        // A direct bid can only win an offer listed in its own round: anything else would escrow for nothing.
        const round = services.bids.roundAt(await services.chainTime());
        if (Number(offer.round_id) !== round) {
          throw conflict(
            `offer ${Number(offer.offer_id)} is not in round ${round}'s auction; its owner puts it in again with ` +
              `POST /offers/${Number(offer.offer_id)}/enroll`,
            "path.sliceId",
          );
        }
        const bid = await services.bids.place(
          caller,
          {
            offerId: Number(offer.offer_id),
            profileId: 0,
            start,
            duration: seconds,
            pricePerHour: body.bid,
            replacesLease: body.replacesLease ?? 0,
          },
          body.deposit,
          bootImage(services, body.image),
        );
        return {
          kind: "bid" as const,
          state: "committed" as const,
          txHash: null,
          bid: sealedBidView(bid, caller, services.bids.revealWindow(bid.roundId)),
        };
      }
      const posted = postedPrice(offer) ?? 0n;
      const maxPrice = body.bid ?? posted;
      const sent = await withCredits(services, caller, () =>
        services.send(caller, (c) =>
          c.offers.bookInstant(
            Number(offer.offer_id),
            start,
            slices,
            maxPrice,
            body.replacesLease ?? 0,
            bootImage(services, body.image),
          ),
        ),
      );
      const leaseId = Number(eventOf(sent, "LeaseCreated").args.leaseId);
      const row = await leaseRow(services.db, leaseId);
      if (row === undefined) throw new Error(`lease ${leaseId} is not in the read model`);
      return { kind: "lease" as const, state: "booked" as const, txHash: sent.txHash, lease: leaseView(row) };
    },
  }),

  route({
    method: "get",
    path: "/timeslots/:sliceId/usage",
    tag: "time-slices",
    summary: "What the lease holding a slice has used so far",
    description: "Seconds delivered, credits accrued, the agent's metering hash anchored on-chain, and its samples.",
    access: "user",
    params: sliceParam,
    response: usageSchema,
    async handler({ params, caller, services }) {
      const row = await leaseOfSlice(services, caller, params.sliceId);
      return usageWithSamples(services, row);
    },
  }),

  route({
    method: "post",
    path: "/timeslots/:sliceId/release",
    tag: "time-slices",
    summary: "Release the lease holding a slice early; the time not delivered is refunded",
    access: ["buyer"],
    params: sliceParam,
    response: z.object({ txHash: z.string(), lease: leaseSchema }),
    async handler({ params, caller, services }) {
      const row = await leaseOfSlice(services, caller, params.sliceId);
      if (row.buyer !== caller.address) throw forbidden("only the lease's buyer may release it");
      const sent = await services.send(caller, (c) => c.leases.release(Number(row.lease_id)));
      const updated = await leaseRow(services.db, Number(row.lease_id));
      return { txHash: sent.txHash, lease: leaseView(updated ?? row) };
    },
  }),
];

async function sliceOffer(services: Services, sliceId: string): Promise<{ offer: OfferRow; start: number }> {
  const slice = parseSliceId(sliceId);
  if (slice === undefined) throw invalidInput("path.sliceId", "not a slice id");
  const offer = await findOffer(services.db, slice.offerId);
  if (offer === undefined) throw notFound(`offer ${slice.offerId}`);
  const slices = (slice.start - Number(offer.starts_at)) / Number(offer.slice_seconds);
  if (!Number.isInteger(slices) || slices < 0 || slice.start >= Number(offer.ends_at)) {
    throw invalidInput("path.sliceId", `no slice of offer ${slice.offerId} starts at ${slice.start}`);
  }
  return { offer, start: slice.start };
}

/** The newest lease holding a slice that the caller may see: theirs, their tenant's node's, or any for staff. */
async function leaseOfSlice(services: Services, caller: User, sliceId: string): Promise<LeaseRow> {
  const { offer, start } = await sliceOffer(services, sliceId);
  const staff = caller.roles.includes("admin") || caller.roles.includes("auditor");
  const rows = await leasesHolding(services.db, Number(offer.offer_id), start);
  const visible = rows.find(
    (row) =>
      staff || row.buyer === caller.address || (caller.tenantId !== null && Number(row.tenant_id) === caller.tenantId),
  );
  if (visible === undefined) throw notFound(`a lease of yours holding slice ${sliceId}`);
  return visible;
}

export async function usageWithSamples(services: Services, row: LeaseRow) {
  const usage = usageOf(row, await services.chainTime());
  const samples = await fetchAgentSamples(services, row);
  return { ...usage, samples };
}
