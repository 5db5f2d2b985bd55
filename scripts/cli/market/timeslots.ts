import { Command } from "commander";

import type { Lease, Slice, Usage } from "../../../api/records.js";
import { parseCredits } from "../../../sdk/index.js";
import { gatewayOf, onChain, withConnection, type ConnectionFlags } from "../connection.js";
import { print, record, table } from "../output.js";
import { sendOnChain } from "./chain.js";
import { showLease, showUsage } from "./leases.js";

type RequestAnswer =
  | { kind: "lease"; state: string; txHash: string; lease: Lease }
  | { kind: "bid"; state: string; bid: { bidRef: string; roundId: number; revealOpensAt: string } };

const DEFAULT_IMAGE = "https://images.metalmarket.local/ubuntu-24.04-live.iso";

/** A slice id is `<offerId>-<start unix seconds>`. */
function parseSliceId(sliceId: string): { offerId: number; start: number } {
  const match = /^(\d+)-(\d+)$/.exec(sliceId);
  if (match === null) throw new Error(`a slice id looks like <offerId>-<start>, e.g. 3-1795478400, not "${sliceId}"`);
  return { offerId: Number(match[1]), start: Number(match[2]) };
}

/** `market timeslots ...`: the time-slice API, for buyers. */
export function timeslotsCommand(): Command {
  const slots = new Command("timeslots").description("time-slices: search, request, usage, release");

  withConnection(slots.command("search").description("free slices that fit your needs"))
    .option("--cpu <cores>", "at least this many cores", "0")
    .option("--ram <GiB>", "at least this much memory", "0")
    .option("--start <time>", "from (ISO 8601 or unix seconds)")
    .option("--end <time>", "until")
    .option("--model <model>", "fixed, dynamic or auction")
    .option("--max-price <credits>", "at most this many credits per hour")
    .action(
      async (
        flags: ConnectionFlags & {
          cpu: string;
          ram: string;
          start?: string;
          end?: string;
          model?: string;
          maxPrice?: string;
        },
      ) => {
        const answer = await (
          await gatewayOf(flags)
        ).get<{ slices: Slice[] }>("/timeslots", {
          cpu: flags.cpu,
          ram: flags.ram,
          start: flags.start,
          end: flags.end,
          model: flags.model,
          maxPrice: flags.maxPrice,
        });
        print(answer, flags.json === true, ({ slices }) =>
          table(slices, [
            ["slice", (s) => s.sliceId],
            ["node", (s) => s.nodeId],
            ["size", (s) => `${s.resources.cores}c/${s.resources.memoryGiB}G`],
            ["model", (s) => s.model],
            ["price/h", (s) => s.pricePerHour ?? "sealed"],
            ["start", (s) => s.start],
            ["minutes", (s) => s.sliceSeconds / 60],
          ]),
        );
      },
    );

  withConnection(slots.command("request <sliceId>").description("book a slice (or bid for it, in an auction)"))
    .requiredOption("--duration <minutes>", "how long, a whole number of the offer's slices")
    .option("--bid <credits>", "credits per hour: your sealed bid, or the most you pay at a posted price")
    .option(
      "--deposit <credits>",
      "auctions: credits to escrow, at least the bid's cost (default: the 1-2-5 bucket above it)",
    )
    .option("--image <url>", "the image the node boots")
    .action(
      async (
        sliceId: string,
        flags: ConnectionFlags & { duration: string; bid?: string; deposit?: string; image?: string },
      ) => {
        if (onChain(flags)) {
          const { offerId, start } = parseSliceId(sliceId);
          const sent = await sendOnChain(flags, async (c) => {
            const offer = await c.offers.offerOf(offerId);
            const slices = Math.round((Number(flags.duration) * 60) / Number(offer.sliceSeconds));
            const price = flags.bid === undefined ? await c.offers.postedPrice(offerId) : parseCredits(flags.bid);
            return c.offers.bookInstant(offerId, start, slices, price, 0, flags.image ?? DEFAULT_IMAGE);
          });
          print(sent, flags.json === true, (s) =>
            record([
              ["lease", String(s.events.find((e) => e.name === "LeaseCreated")?.args.leaseId ?? "-")],
              ["tx", s.txHash],
            ]),
          );
          return;
        }
        const answer = await (
          await gatewayOf(flags)
        ).post<RequestAnswer>(`/timeslots/${sliceId}/request`, {
          duration: Number(flags.duration),
          ...(flags.bid === undefined ? {} : { bid: flags.bid }),
          ...(flags.deposit === undefined ? {} : { deposit: flags.deposit }),
          ...(flags.image === undefined ? {} : { image: flags.image }),
        });
        print(answer, flags.json === true, (a) =>
          a.kind === "lease"
            ? `booked\n${showLease(a.lease)}`
            : record([
                ["bid", a.bid.bidRef],
                ["state", `${a.state}: sealed in round ${a.bid.roundId}; the gateway reveals it for you`],
                ["reveal at", a.bid.revealOpensAt],
              ]),
        );
      },
    );

  withConnection(slots.command("usage <sliceId>").description("what your lease of the slice has used")).action(
    async (sliceId: string, flags: ConnectionFlags) => {
      const answer = await (await gatewayOf(flags)).get<Usage>(`/timeslots/${sliceId}/usage`);
      print(answer, flags.json === true, showUsage);
    },
  );

  withConnection(
    slots.command("release <sliceId>").description("end your lease of the slice early; the rest is refunded"),
  ).action(async (sliceId: string, flags: ConnectionFlags) => {
    const answer = await (await gatewayOf(flags)).post<{ lease: Lease }>(`/timeslots/${sliceId}/release`);
    print(answer, flags.json === true, ({ lease }) => showLease(lease));
  });

  return slots;
}
