import { it, expect } from "vitest";
import { parseCredits, leaseCost, newSalt, bidCommitment } from "../sdk/index.js";
import { currentRound, toRevealWindow, toClearing, clearAll } from "./helpers/auction.js";
import { HOUR, MODEL, createOffer, offerTerms, openWorld, names } from "./helpers/world.js";

it("debug", async () => {
  const w = await openWorld();
  const time = w.connection.networkHelpers.time;
  const now = await time.latest();
  const start = Math.ceil(now / HOUR) * HOUR + 2 * HOUR;
  const offer = await createOffer({ c: w.as(w.seller), send: w.send }, offerTerms(start, { model: MODEL.Auction, pricePerHour: parseCredits("2"), end: start + 8 * HOUR }));
  const round = await currentRound(w);
  const terms = { roundId: round, offerId: offer, profileId: 0, start: start + HOUR, duration: HOUR, pricePerHour: parseCredits("5") + 1234n, replacesLease: 0 };
  const salt = newSalt();
  const deposit = leaseCost(terms.pricePerHour, terms.duration) + 77n;
  const commitment = bidCommitment({ chainId: w.deployment.chainId, market: w.deployment.contracts.market }, w.buyer.address, terms, salt);
  await w.send(w.as(w.buyer).market.commitBid(commitment, deposit));
  await toRevealWindow(w, round);
  const hint = await w.c.market.insertionHint(round, terms.pricePerHour);
  await w.send(w.as(w.buyer).market.revealBid(terms, salt, hint));
  await toClearing(w, round);
  console.log(names(await clearAll(w, round, 3)));
});
