import { Command } from "commander";

import type { Bid as GatewayBid } from "../../../api/records.js";
import {
  advanceSealedBids,
  chainClock,
  clearRoundInChunks,
  commitRound,
  errorMessage,
  formatCredits,
  latestBlockGasLimit,
  maxBidCost,
  paddedDeposit,
  parseCredits,
  revealWindow,
  sealBid,
  storeTerms,
  termsFromStore,
  withDecodedRevert,
  type BidTerms,
  type SealedState,
  type StoredBidTerms,
} from "../../../sdk/index.js";
import { gatewayOf, onChain, withChain, withConnection, type ConnectionFlags } from "../connection.js";
import { print, record, table } from "../output.js";
import { loadSecretRecords, saveSecretRecord } from "../secret-file.js";

/** A bid sealed by the caller's own wallet, kept (with its salt) in a local file until revealed. */
interface WalletBid {
  commitment: string;
  bidder: string;
  terms: StoredBidTerms;
  salt: string;
  deposit: string;
  /** The image a won lease boots, revealed with the bid ("" for none). */
  image?: string;
  state: SealedState;
  txHash: string;
}

/** Bids a clearing transaction is first tried with; `clearingChunk` halves it to fit the block. */
const CLEARING_CHUNK = 64;

const DEFAULT_BIDS_FILE = ".metalmarket/wallet-bids.json";

const when = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * `market bids ...`: sealed bids. Through the gateway, it keeps the salt and reveals for you. With
 * your own wallet (`--rpc`), the salt stays in a local file (`--bids-file`) and you reveal.
 */
export function bidsCommand(): Command {
  const bids = new Command("bids").description("sealed bids: commit, reveal, status");
  const withBidsFile = (command: Command) =>
    command.option("--bids-file <file>", "wallet bids: where sealed terms and salts are kept", DEFAULT_BIDS_FILE);

  withBidsFile(withConnection(bids.command("commit").description("seal a bid and commit it in the round open now")))
    .option("--offer <id>", "the auction offer (omit for a pool bid on any fitting node)")
    .option("--profile <id>", "pool bids: the profile a node must fit (0: any)", "0")
    .requiredOption("--start <time>", "when the lease starts (ISO 8601 or unix seconds)")
    .requiredOption("--duration <minutes>", "how long")
    .requiredOption("--price <credits>", "your sealed price, credits per hour")
    .option(
      "--deposit <credits>",
      "credits to escrow, at least the bid's cost (default: the 1-2-5 bucket above it, so it does not give the price away)",
    )
    .option("--image <url>", "the image a won lease boots (through the gateway: the gateway's default otherwise)")
    .action(
      async (
        flags: ConnectionFlags & {
          offer?: string;
          profile: string;
          start: string;
          duration: string;
          price: string;
          deposit?: string;
          image?: string;
          bidsFile: string;
        },
      ) => {
        const start = /^\d+$/.test(flags.start) ? Number(flags.start) : Date.parse(flags.start) / 1000;
        if (!Number.isFinite(start)) throw new Error(`--start must be ISO 8601 or unix seconds, not "${flags.start}"`);
        if (!onChain(flags)) {
          const answer = await (
            await gatewayOf(flags)
          ).post<GatewayBid>("/bids", {
            ...(flags.offer === undefined ? {} : { offerId: Number(flags.offer) }),
            profileId: Number(flags.profile),
            start,
            duration: Number(flags.duration),
            pricePerHour: flags.price,
            ...(flags.deposit === undefined ? {} : { deposit: flags.deposit }),
            ...(flags.image === undefined ? {} : { image: flags.image }),
          });
          print(answer, flags.json === true, showGatewayBid);
          return;
        }
        const committed = await withChain(flags, async ({ provider, deployment, contracts, address }) => {
          const terms: BidTerms = {
            roundId: commitRound(deployment.schedule, await chainClock(provider)()),
            offerId: Number(flags.offer ?? 0),
            profileId: Number(flags.profile),
            start,
            duration: Number(flags.duration) * 60,
            pricePerHour: parseCredits(flags.price),
            replacesLease: 0,
          };
          const deposit =
            flags.deposit === undefined
              ? paddedDeposit(maxBidCost(terms), (await contracts.market.accountOf(address)).available)
              : parseCredits(flags.deposit);
          const domain = { chainId: deployment.chainId, market: deployment.contracts.market };
          const bid = sealBid(domain, address, terms, deposit);
          // The salt is written before the commit is sent: a bid that cannot be revealed loses its deposit.
          const stored: WalletBid = {
            commitment: bid.commitment,
            bidder: address,
            terms: storeTerms(terms),
            salt: bid.salt,
            deposit: String(deposit),
            image: flags.image ?? "",
            state: "committed",
            txHash: "",
          };
          await saveBid(flags.bidsFile, stored);
          const receipt = await withDecodedRevert(async () =>
            (await contracts.market.commitBid(bid.commitment, deposit, terms.roundId)).wait(),
          );
          stored.txHash = receipt?.hash ?? "";
          await saveBid(flags.bidsFile, stored);
          return { ...stored, revealWindow: revealWindow(deployment.schedule, terms.roundId) };
        });
        print(committed, flags.json === true, (b) =>
          record([
            ["commitment", b.commitment],
            ["round", b.terms.roundId],
            ["deposit", formatCredits(BigInt(b.deposit))],
            [
              "reveal",
              `from ${when(b.revealWindow.opensAt)} to ${when(b.revealWindow.closesAt)}: run \`market bids reveal\``,
            ],
            ["kept in", flags.bidsFile],
          ]),
        );
      },
    );

  withBidsFile(
    withConnection(
      bids
        .command("reveal")
        .description(
          "wallet bids: reveal every bid whose reveal window is open, report those that missed it, and clear rounds that closed",
        ),
    ),
  ).action(async (flags: ConnectionFlags & { bidsFile: string }) => {
    if (!onChain(flags)) {
      process.stdout.write("the gateway reveals its users' bids in their reveal window; see `market bids status`\n");
      return;
    }
    const pass = await withChain(flags, async ({ provider, deployment, contracts, address }) => {
      const { market } = contracts;
      return advanceSealedBids(
        {
          list: async () => (await loadBids(flags.bidsFile)).filter((bid) => bid.bidder === address),
          save: (bid) => saveBid(flags.bidsFile, bid),
        },
        deployment.schedule,
        {
          now: chainClock(provider),
          reveal: async (bid) => {
            const terms = termsFromStore(bid.terms);
            const hint = await market.insertionHint(terms.roundId, terms.pricePerHour, address, bid.commitment);
            await withDecodedRevert(async () =>
              (await market.revealBid(terms, bid.salt, hint, bid.image ?? "")).wait(),
            );
          },
          clear: (roundId) =>
            clearRoundInChunks(
              {
                isCleared: () => market.isRoundCleared(roundId),
                estimate: (maxBids) => withDecodedRevert(() => market.clearRound.estimateGas(roundId, maxBids)),
                send: async (chunk) => {
                  await withDecodedRevert(async () =>
                    (await market.clearRound(roundId, chunk.maxBids, { gasLimit: chunk.gasLimit })).wait(),
                  );
                },
                blockGasLimit: () => latestBlockGasLimit(provider),
              },
              CLEARING_CHUNK,
            ),
        },
      );
    });
    for (const { bid, error } of pass.failed) {
      process.stderr.write(`market: bid ${bid.commitment} (round ${bid.terms.roundId}): ${errorMessage(error)}\n`);
    }
    if (pass.failed.length > 0) process.exitCode = 1;
    print(
      pass.moved.map(({ bid, from }) => ({
        commitment: bid.commitment,
        roundId: Number(bid.terms.roundId),
        from,
        state: bid.state,
      })),
      flags.json === true,
      (rows) =>
        table(
          rows,
          [
            ["commitment", (b) => b.commitment],
            ["round", (b) => b.roundId],
            ["was", (b) => b.from],
            ["now", (b) => b.state],
          ],
          "no bid had anything to do now",
        ),
    );
  });

  withBidsFile(withConnection(bids.command("status [bidRef]").description("your bids and where they stand"))).action(
    async (bidRef: string | undefined, flags: ConnectionFlags & { bidsFile: string }) => {
      if (onChain(flags)) {
        const rows = await loadBids(flags.bidsFile);
        print(rows, flags.json === true, (list) =>
          table(list, [
            ["commitment", (b) => b.commitment],
            ["round", (b) => b.terms.roundId],
            ["offer", (b) => b.terms.offerId],
            ["price/h", (b) => formatCredits(BigInt(b.terms.pricePerHour))],
            ["state", (b) => b.state],
          ]),
        );
        return;
      }
      const client = await gatewayOf(flags);
      if (bidRef !== undefined) {
        print(await client.get<GatewayBid>(`/bids/${bidRef}`), flags.json === true, showGatewayBid);
        return;
      }
      const answer = await client.get<{ bids: GatewayBid[] }>("/bids");
      print(answer, flags.json === true, ({ bids: rows }) =>
        table(rows, [
          ["bid", (b) => b.bidRef],
          ["round", (b) => b.roundId],
          ["offer", (b) => b.terms?.offerId ?? "pool"],
          ["price/h", (b) => b.terms?.pricePerHour],
          ["state", (b) => b.state],
          ["lease", (b) => b.leaseId],
        ]),
      );
    },
  );

  return bids;
}

const showGatewayBid = (b: GatewayBid) =>
  record([
    ["bid", b.bidRef],
    ["state", b.state],
    ["round", b.roundId],
    ["offer", b.terms?.offerId ?? "pool"],
    ["price/hour", b.terms?.pricePerHour],
    ["deposit", b.deposit],
    ["reveal", `${b.revealOpensAt} to ${b.revealClosesAt}`],
    ["lease", b.leaseId],
  ]);

const loadBids = (file: string) => loadSecretRecords<WalletBid>(file);

/** Adds or updates a bid in the file, readable by this user only. */
const saveBid = (file: string, bid: WalletBid) => saveSecretRecord(file, bid, (a, b) => a.commitment === b.commitment);
