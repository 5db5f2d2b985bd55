import { Command, Option } from "commander";

import { ZeroHash } from "ethers";

import type { Offer } from "../../../api/records.js";
import { PriceModel, parseCredits } from "../../../sdk/index.js";
import { gatewayOf, onChain, withConnection, type ConnectionFlags } from "../connection.js";
import { print, record, table } from "../output.js";
import { sendOnChain } from "./chain.js";

const PRICE_MODELS = { fixed: PriceModel.Fixed, dynamic: PriceModel.Dynamic, auction: PriceModel.Auction } as const;

const when = (seconds: number) => new Date(seconds * 1000).toISOString().replace(":00.000Z", "Z");
const showOffer = (o: Offer) =>
  record([
    ["offer", o.offerId],
    ["node", o.nodeId],
    ["model", o.model],
    ["price/hour", o.pricePerHour ?? "sealed"],
    ["runs", `${when(o.start)} to ${when(o.end)}`],
    ["slices", `${o.sliceSeconds / 60} min, ${o.minSlices} to ${o.maxSlices} per lease`],
    ["hours", o.hours === null ? "any" : `${o.hours.from}:00 to ${o.hours.to}:00 UTC`],
  ]);

/** `market offers ...`: what providers put up for rent, and at what price. */
export function offersCommand(): Command {
  const offers = new Command("offers").description("offers: list, create, reprice, close");

  withConnection(offers.command("list").description("list offers"))
    .option("--node <id>", "only this node's")
    .option("--dormant-for <span>", "only offers that have not sold for this long, e.g. 12h or 3d")
    .action(async (flags: ConnectionFlags & { node?: string; dormantFor?: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).get<{ offers: Offer[] }>("/offers", { nodeId: flags.node, dormantFor: flags.dormantFor });
      print(answer, flags.json === true, ({ offers: rows }) =>
        table(rows, [
          ["id", (o) => o.offerId],
          ["node", (o) => o.nodeId],
          ["model", (o) => o.model],
          ["price/h", (o) => o.pricePerHour ?? "sealed"],
          ["slice", (o) => `${o.sliceSeconds / 60}m`],
          ["from", (o) => when(o.start)],
          ["to", (o) => when(o.end)],
          ["hours", (o) => (o.hours === null ? "" : `${o.hours.from}-${o.hours.to}`)],
        ]),
      );
    });

  withConnection(offers.command("show <offerId>").description("one offer")).action(
    async (offerId: string, flags: ConnectionFlags) => {
      print(await (await gatewayOf(flags)).get<Offer>(`/offers/${offerId}`), flags.json === true, showOffer);
    },
  );

  withConnection(offers.command("create").description("offer a node's time for rent"))
    .requiredOption("--node <id>", "the node")
    .addOption(
      new Option("--model <model>", "how the price is set")
        .choices(["fixed", "dynamic", "auction"])
        .makeOptionMandatory(),
    )
    .requiredOption(
      "--price <credits>",
      "credits per hour: the price, the base of a dynamic price, or an auction's reserve",
    )
    .requiredOption("--start <time>", "ISO 8601 or unix seconds")
    .requiredOption("--end <time>", "ISO 8601 or unix seconds")
    .option("--slice <minutes>", "slice length", "60")
    .option("--min-slices <n>", "fewest slices per lease", "1")
    .option("--max-slices <n>", "most slices per lease", "24")
    .option("--hours <from-to>", "daily hours (UTC) it may be used, e.g. 20-6 for nights only")
    .option("--surge <bps>", "dynamic: the most the price rises, in basis points", "0")
    .action(
      async (
        flags: ConnectionFlags & {
          node: string;
          model: string;
          price: string;
          start: string;
          end: string;
          slice: string;
          minSlices: string;
          maxSlices: string;
          hours?: string;
          surge: string;
        },
      ) => {
        const hours = flags.hours === undefined ? undefined : /^(\d{1,2})-(\d{1,2})$/.exec(flags.hours);
        if (hours === null) throw new Error(`--hours must look like 20-6, not "${flags.hours}"`);
        if (onChain(flags)) {
          const at = (time: string) => (/^\d+$/.test(time) ? Number(time) : Math.floor(Date.parse(time) / 1000));
          const sent = await sendOnChain(flags, (c) =>
            c.offers.createOffer({
              nodeId: Number(flags.node),
              start: at(flags.start),
              end: at(flags.end),
              sliceSeconds: Number(flags.slice) * 60,
              minSlices: Number(flags.minSlices),
              maxSlices: Number(flags.maxSlices),
              fromHour: hours === undefined ? 0 : Number(hours[1]),
              toHour: hours === undefined ? 0 : Number(hours[2]),
              model: PRICE_MODELS[flags.model as keyof typeof PRICE_MODELS],
              pricePerHour: parseCredits(flags.price),
              surgeBps: Number(flags.surge),
              sealedReserve: ZeroHash,
            }),
          );
          const created = sent.events.find((event) => event.name === "OfferCreated");
          print(sent, flags.json === true, (s) =>
            record([
              ["offer", String(created?.args.offerId)],
              ["tx", s.txHash],
            ]),
          );
          return;
        }
        const answer = await (
          await gatewayOf(flags)
        ).post<{ offer: Offer; txHash: string }>("/offers", {
          nodeId: Number(flags.node),
          model: flags.model,
          pricePerHour: flags.price,
          start: flags.start,
          end: flags.end,
          sliceSeconds: Number(flags.slice) * 60,
          minSlices: Number(flags.minSlices),
          maxSlices: Number(flags.maxSlices),
          surgeBps: Number(flags.surge),
          ...(hours === undefined ? {} : { hours: { from: Number(hours[1]), to: Number(hours[2]) } }),
        });
        print(answer, flags.json === true, ({ offer, txHash }) => `${showOffer(offer)}\ntx:          ${txHash}`);
      },
    );

  withConnection(offers.command("price <offerId> <credits>").description("set a new price per hour")).action(
    async (offerId: string, price: string, flags: ConnectionFlags) => {
      const answer = await (
        await gatewayOf(flags)
      ).post<{ offer: Offer }>(`/offers/${offerId}/price`, { pricePerHour: price });
      print(answer, flags.json === true, ({ offer }) => showOffer(offer));
    },
  );

  withConnection(offers.command("close <offerId>").description("stop selling; leases already made stay")).action(
    async (offerId: string, flags: ConnectionFlags) => {
      const answer = await (await gatewayOf(flags)).post<{ offer: Offer }>(`/offers/${offerId}/close`);
      print(answer, flags.json === true, ({ offer }) => showOffer(offer));
    },
  );

  return offers;
}
