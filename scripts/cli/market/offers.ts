import { Command, Option } from "commander";

import { ZeroHash } from "ethers";

import type { Offer } from "../../../api/records.js";
import {
  PriceModel,
  chainClock,
  formatCredits,
  newSalt,
  parseCredits,
  reserveCommitment,
  sealedStep,
  withDecodedRevert,
  type Deployment,
} from "../../../sdk/index.js";
import { gatewayOf, onChain, withChain, withConnection, type ConnectionFlags } from "../connection.js";
import { print, record, table } from "../output.js";
import { loadSecretRecords, saveSecretRecord } from "../secret-file.js";
import { sendOnChain, type Sent } from "./chain.js";

/** A sealed reserve of the caller's own wallet, kept (with its salt) in a local file until revealed. */
interface WalletReserve {
  commitment: string;
  seller: string;
  nodeId: number;
  reservePerHour: string;
  salt: string;
  offerId: number | null;
  roundId: number | null;
  state: "sealed" | "enrolled" | "revealed";
}

const DEFAULT_RESERVES_FILE = ".metalmarket/sealed-reserves.json";
const saveReserve = (file: string, reserve: WalletReserve) =>
  saveSecretRecord(file, reserve, (a, b) => a.commitment === b.commitment);

/**
 * Seals `reservePerHour` for the wallet's node and writes it, with its salt, to `file` before the
 * enrolment that carries it is sent: a reserve whose salt is lost can never be revealed.
 */
async function sealReserve(
  file: string,
  deployment: Deployment,
  seller: string,
  nodeId: number,
  reservePerHour: bigint,
): Promise<WalletReserve> {
  const salt = newSalt();
  const domain = { chainId: deployment.chainId, offers: deployment.contracts.offers };
  const reserve: WalletReserve = {
    commitment: reserveCommitment(domain, seller, nodeId, reservePerHour, salt),
    seller,
    nodeId,
    reservePerHour: String(reservePerHour),
    salt,
    offerId: null,
    roundId: null,
    state: "sealed",
  };
  await saveReserve(file, reserve);
  return reserve;
}

/** Records where the enrolment that carried `reserve` put its offer. */
async function reserveEnrolled(file: string, reserve: WalletReserve | undefined, sent: Sent): Promise<void> {
  const enrolled = sent.events.find((event) => event.name === "OfferEnrolled");
  if (reserve === undefined || enrolled === undefined) return;
  await saveReserve(file, {
    ...reserve,
    offerId: Number(enrolled.args.offerId),
    roundId: Number(enrolled.args.roundId),
    state: "enrolled",
  });
}

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
    .option("--sealed-reserve", "auction: keep --price secret until the round's reveal window")
    .option("--reserves-file <file>", "wallet: where sealed reserves and their salts are kept", DEFAULT_RESERVES_FILE)
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
          sealedReserve?: boolean;
          reservesFile: string;
        },
      ) => {
        const sealed = flags.sealedReserve === true;
        if (sealed && flags.model !== "auction") throw new Error("--sealed-reserve needs --model auction");
        const hours = flags.hours === undefined ? undefined : /^(\d{1,2})-(\d{1,2})$/.exec(flags.hours);
        if (hours === null) throw new Error(`--hours must look like 20-6, not "${flags.hours}"`);
        if (onChain(flags)) {
          const at = (time: string) => (/^\d+$/.test(time) ? Number(time) : Math.floor(Date.parse(time) / 1000));
          let reserve: WalletReserve | undefined;
          const sent = await sendOnChain(flags, async (c, address, deployment) => {
            const price = parseCredits(flags.price);
            if (sealed) reserve = await sealReserve(flags.reservesFile, deployment, address, Number(flags.node), price);
            return c.offers.createOffer({
              nodeId: Number(flags.node),
              start: at(flags.start),
              end: at(flags.end),
              sliceSeconds: Number(flags.slice) * 60,
              minSlices: Number(flags.minSlices),
              maxSlices: Number(flags.maxSlices),
              fromHour: hours === undefined ? 0 : Number(hours[1]),
              toHour: hours === undefined ? 0 : Number(hours[2]),
              model: PRICE_MODELS[flags.model as keyof typeof PRICE_MODELS],
              pricePerHour: reserve === undefined ? price : 0n,
              surgeBps: Number(flags.surge),
              sealedReserve: reserve?.commitment ?? ZeroHash,
            });
          });
          await reserveEnrolled(flags.reservesFile, reserve, sent);
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
          sealedReserve: sealed,
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

  withConnection(
    offers
      .command("enroll <offerId> <reserve>")
      .description("put an auction offer into the round open now, with a reserve in credits per hour"),
  )
    .option("--sealed-reserve", "keep the reserve secret until the round's reveal window")
    .option("--reserves-file <file>", "wallet: where sealed reserves and their salts are kept", DEFAULT_RESERVES_FILE)
    .action(
      async (
        offerId: string,
        reserve: string,
        flags: ConnectionFlags & { sealedReserve?: boolean; reservesFile: string },
      ) => {
        const sealed = flags.sealedReserve === true;
        if (!onChain(flags)) {
          const answer = await (
            await gatewayOf(flags)
          ).post<{ offer: Offer }>(`/offers/${offerId}/enroll`, { reservePerHour: reserve, sealed });
          print(answer, flags.json === true, ({ offer }) => showOffer(offer));
          return;
        }
        let kept: WalletReserve | undefined;
        const sent = await sendOnChain(flags, async (c, address, deployment) => {
          const price = parseCredits(reserve);
          if (!sealed) return c.offers.enrollInRound(Number(offerId), price, ZeroHash);
          const { nodeId } = await c.offers.offerOf(Number(offerId));
          kept = await sealReserve(flags.reservesFile, deployment, address, Number(nodeId), price);
          return c.offers.enrollInRound(Number(offerId), 0n, kept.commitment);
        });
        await reserveEnrolled(flags.reservesFile, kept, sent);
        print(sent, flags.json === true, (s) => record([["tx", s.txHash]]));
      },
    );

  withConnection(
    offers
      .command("reveal-reserves")
      .description("wallet: reveal every sealed reserve whose round's reveal window is open"),
  )
    .option("--reserves-file <file>", "where sealed reserves and their salts are kept", DEFAULT_RESERVES_FILE)
    .action(async (flags: ConnectionFlags & { reservesFile: string }) => {
      if (!onChain(flags)) {
        process.stdout.write("the gateway reveals its providers' sealed reserves in their reveal window\n");
        return;
      }
      const revealed = await withChain(flags, async ({ provider, deployment, contracts, address }) => {
        const now = await chainClock(provider)();
        const done: WalletReserve[] = [];
        for (const kept of await loadSecretRecords<WalletReserve>(flags.reservesFile)) {
          if (kept.state !== "enrolled" || kept.seller !== address || kept.roundId === null) continue;
          // An enrolled reserve is a committed seal: revealed in its window while the next block can carry it.
          const step = sealedStep({ state: "committed", roundId: kept.roundId }, deployment.schedule, now);
          if (step.action !== "reveal") continue;
          await withDecodedRevert(async () =>
            (await contracts.offers.revealReserve(Number(kept.offerId), BigInt(kept.reservePerHour), kept.salt)).wait(),
          );
          const updated = { ...kept, state: "revealed" as const };
          await saveReserve(flags.reservesFile, updated);
          done.push(updated);
        }
        return done;
      });
      print(revealed, flags.json === true, (rows) =>
        table(
          rows,
          [
            ["offer", (r) => r.offerId],
            ["round", (r) => r.roundId],
            ["reserve/h", (r) => formatCredits(BigInt(r.reservePerHour))],
          ],
          "no sealed reserve is in its reveal window now",
        ),
      );
    });

  return offers;
}
