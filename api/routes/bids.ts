import { z } from "zod";

import type { SealedBidView } from "../bids/sealed-bids.js";
import { notFound } from "../errors.js";
import {
  chainIdInput,
  credits,
  creditsInput,
  instant,
  isoTime,
  minutesInput,
  priceInput,
  UINT32_MAX,
} from "../http/schemas.js";
import type { User } from "../identity/users.js";
import { bootImage, requireOwnLease } from "../services.js";
import { route } from "./define.js";

export const sealedBidSchema = z.object({
  bidRef: z.string().describe("the gateway's id of the bid"),
  roundId: z.number(),
  state: z.enum(["sealed", "committed", "revealed", "matched", "unmatched", "failed", "missed"]),
  commitment: z.string(),
  deposit: z.string(),
  revealOpensAt: z.string(),
  revealClosesAt: z.string(),
  terms: z
    .object({
      offerId: z.number().nullable(),
      profileId: z.number(),
      start: z.string(),
      durationMinutes: z.number(),
      pricePerHour: z.string(),
      replacesLease: z.number().nullable(),
    })
    .nullable()
    .describe("shown to the bidder, and to others once revealed"),
  bidId: z.number().nullable().describe("the bid's id in its round, once revealed"),
  leaseId: z.number().nullable(),
  error: z.string().nullable(),
});

const REVEALED = new Set(["revealed", "matched", "unmatched"]);

/** A sealed bid as `viewer` may see it: its terms stay hidden from others until revealed. */
export function sealedBidView(
  bid: SealedBidView,
  viewer: User,
  window: { opensAt: number; closesAt: number },
): z.infer<typeof sealedBidSchema> {
  const visible = bid.userId === viewer.userId || REVEALED.has(bid.state);
  const t = bid.terms;
  return {
    bidRef: bid.bidRef,
    roundId: bid.roundId,
    state: bid.state,
    commitment: bid.commitment,
    deposit: credits(bid.deposit) ?? "0",
    revealOpensAt: isoTime(window.opensAt) ?? "",
    revealClosesAt: isoTime(window.closesAt) ?? "",
    terms: visible
      ? {
          offerId: t.offerId === 0 ? null : t.offerId,
          profileId: t.profileId,
          start: isoTime(t.start) ?? "",
          durationMinutes: t.duration / 60,
          pricePerHour: credits(t.pricePerHour) ?? "0",
          replacesLease: t.replacesLease === 0 ? null : t.replacesLease,
        }
      : null,
    bidId: bid.bidId,
    leaseId: bid.leaseId,
    error: bid.error,
  };
}

export const bidRoutes = [
  route({
    method: "get",
    path: "/rounds/current",
    tag: "bids",
    summary: "The auction round taking sealed bids now, and its windows",
    access: "user",
    response: z.object({
      roundId: z.number(),
      commitClosesAt: z.string(),
      revealOpensAt: z.string(),
      revealClosesAt: z.string(),
    }),
    async handler({ services }) {
      const roundId = services.bids.roundAt(await services.chainTime());
      const { opensAt, closesAt } = services.bids.revealWindow(roundId);
      return {
        roundId,
        commitClosesAt: isoTime(opensAt) ?? "",
        revealOpensAt: isoTime(opensAt) ?? "",
        revealClosesAt: isoTime(closesAt) ?? "",
      };
    },
  }),

  route({
    method: "get",
    path: "/bids",
    tag: "bids",
    summary: "Sealed bids placed through the gateway: yours, or all for an admin",
    access: ["buyer", "admin"],
    query: z
      .object({ state: sealedBidSchema.shape.state.optional(), all: z.enum(["true", "false"]).default("false") })
      .strict(),
    response: z.object({ bids: z.array(sealedBidSchema) }),
    async handler({ query, caller, services }) {
      const everyone = query.all === "true" && caller.roles.includes("admin");
      const bids = await services.bids.list({ userId: everyone ? undefined : caller.userId, state: query.state });
      return { bids: bids.map((bid) => sealedBidView(bid, caller, services.bids.revealWindow(bid.roundId))) };
    },
  }),

  route({
    method: "get",
    path: "/bids/:bidRef",
    tag: "bids",
    summary: "One sealed bid and where it is: committed, revealed, matched or not",
    access: ["buyer", "admin"],
    params: z.object({ bidRef: z.string().uuid() }).strict(),
    response: sealedBidSchema,
    async handler({ params, caller, services }) {
      const bid = await services.bids.get(params.bidRef);
      if (bid === undefined || (bid.userId !== caller.userId && !caller.roles.includes("admin"))) {
        throw notFound(`bid ${params.bidRef}`);
      }
      return sealedBidView(bid, caller, services.bids.revealWindow(bid.roundId));
    },
  }),

  route({
    method: "post",
    path: "/bids",
    tag: "bids",
    summary: "Place a sealed bid on an auction offer, or a pool bid for any node of a profile",
    description:
      "Commits in the current round; the gateway keeps the terms and salt sealed, reveals them in the reveal " +
      "window (also after a restart) and clears the round afterwards. `duration` is minutes; prices are credits " +
      "per hour. `deposit` is at least the bid's cost; by default the gateway pads it to the 1-2-5 bucket above " +
      "(1, 2, 5, 10, 20, ... credits, or all the buyer can spend when that is less), so that it does not give the bid away.",
    access: ["buyer"],
    status: 201,
    body: z
      .object({
        offerId: chainIdInput.optional().describe("omit for a pool bid"),
        profileId: z
          .number()
          .int()
          .min(0)
          .max(UINT32_MAX)
          .default(0)
          .describe("pool bids: the profile a node must fit (0: any)"),
        start: instant,
        duration: minutesInput.describe("minutes"),
        pricePerHour: priceInput,
        deposit: creditsInput.optional(),
        replacesLease: chainIdInput.optional(),
        image: z.string().url().optional().describe("the image a won lease boots; the gateway's default when omitted"),
      })
      .strict(),
    response: sealedBidSchema,
    async handler({ body, caller, services }) {
      if (body.replacesLease !== undefined) await requireOwnLease(services, caller, body.replacesLease);
      const terms = {
        offerId: body.offerId ?? 0,
        profileId: body.profileId,
        start: body.start,
        duration: body.duration * 60,
        pricePerHour: body.pricePerHour,
        replacesLease: body.replacesLease ?? 0,
      };
      const bid = await services.bids.place(caller, terms, body.deposit, bootImage(services, body.image));
      return sealedBidView(bid, caller, services.bids.revealWindow(bid.roundId));
    },
  }),
];
