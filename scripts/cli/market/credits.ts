import { Command } from "commander";

import type { Balance, CreditRequest } from "../../../api/records.js";
import { formatCredits, parseCredits } from "../../../sdk/index.js";
import { gatewayOf, onChain, withChain, withConnection, type ConnectionFlags } from "../connection.js";
import { print, record, table } from "../output.js";
import { sendOnChain } from "./chain.js";

const showBalance = (b: Balance) =>
  record([
    ["account", b.address],
    ["wallet", b.wallet],
    ["available", b.available],
    ["escrowed", b.escrowed],
  ]);
const showRequest = (r: CreditRequest) =>
  record([
    ["request", r.requestId],
    ["amount", r.amount],
    ["status", r.status],
    ["reason", r.reason],
  ]);

/**
 * `market credits ...`: balances, grants and requests. Through the gateway users are named by
 * id; on the chain (`--rpc`) by address.
 */
export function creditsCommand(): Command {
  const credits = new Command("credits").description("credits: balances, grants, takes and requests");

  withConnection(credits.command("balance [who]").description("credits of an account (yours by default)")).action(
    async (who: string | undefined, flags: ConnectionFlags) => {
      const balance = onChain(flags)
        ? await withChain(flags, async ({ contracts, address }) => {
            const account = who ?? address;
            const [held, market] = await Promise.all([
              contracts.credits.balanceOf(account),
              contracts.market.accountOf(account),
            ]);
            return {
              address: account,
              wallet: formatCredits(held),
              available: formatCredits(market.available),
              escrowed: formatCredits(market.escrowed),
            };
          })
        : await (await gatewayOf(flags)).get<Balance>("/credits/balance", { userId: who });
      print(balance, flags.json === true, showBalance);
    },
  );

  for (const [verb, what] of [
    ["grant", "give credits to a user (credit admins)"],
    ["take", "take credits back from a user (credit admins)"],
  ] as const) {
    withConnection(credits.command(`${verb} <who> <amount>`).description(what))
      .option("--memo <text>", "why, for the audit trail", "")
      .action(async (who: string, amount: string, flags: ConnectionFlags & { memo: string }) => {
        if (onChain(flags)) {
          const units = parseCredits(amount);
          const sent = await sendOnChain(flags, (c) =>
            verb === "grant" ? c.credits.grant(who, units, flags.memo) : c.credits.take(who, units, flags.memo),
          );
          print(sent, flags.json === true, (s) => record([["tx", s.txHash]]));
          return;
        }
        const answer = await (
          await gatewayOf(flags)
        ).post<{ txHash: string; balance: Balance }>(`/credits/${verb}`, { userId: who, amount, memo: flags.memo });
        print(answer, flags.json === true, ({ balance, txHash }) => `${showBalance(balance)}\ntx:        ${txHash}`);
      });
  }

  for (const [verb, what] of [
    ["deposit", "wallet users: move credits from your wallet into your market account, to spend"],
    ["withdraw", "wallet users: move available credits from the market back to your wallet"],
  ] as const) {
    withConnection(credits.command(`${verb} <amount>`).description(what)).action(
      async (amount: string, flags: ConnectionFlags) => {
        if (!onChain(flags)) {
          throw new Error(`the gateway moves its users' credits as they spend; \`${verb}\` is for wallets (--rpc)`);
        }
        const units = parseCredits(amount);
        const sent = await sendOnChain(flags, (c, _address, deployment) =>
          verb === "deposit"
            ? c.credits["transferAndCall(address,uint256)"](deployment.contracts.market, units)
            : c.market.withdraw(units),
        );
        print(sent, flags.json === true, (s) => record([["tx", s.txHash]]));
      },
    );
  }

  withConnection(credits.command("request <amount>").description("ask the credit admins for credits"))
    .requiredOption("--reason <text>", "what the credits are for")
    .action(async (amount: string, flags: ConnectionFlags & { reason: string }) => {
      if (onChain(flags)) {
        const sent = await sendOnChain(flags, (c) => c.credits.requestCredits(parseCredits(amount), flags.reason));
        print(sent, flags.json === true, (s) => record([["tx", s.txHash]]));
        return;
      }
      const answer = await (
        await gatewayOf(flags)
      ).post<{ request: CreditRequest }>("/credits/requests", { amount, reason: flags.reason });
      print(answer, flags.json === true, ({ request }) => showRequest(request));
    });

  withConnection(credits.command("requests").description("credit requests (yours, or all for credit admins)"))
    .option("--status <status>", "pending, approved, rejected or cancelled")
    .action(async (flags: ConnectionFlags & { status?: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).get<{ requests: CreditRequest[] }>("/credits/requests", { status: flags.status });
      print(answer, flags.json === true, ({ requests }) =>
        table(requests, [
          ["id", (r) => r.requestId],
          ["requester", (r) => r.requester],
          ["amount", (r) => r.amount],
          ["status", (r) => r.status],
          ["reason", (r) => r.reason],
        ]),
      );
    });

  withConnection(credits.command("approve <requestId>").description("grant a pending request (credit admins)")).action(
    async (requestId: string, flags: ConnectionFlags) => {
      if (onChain(flags)) {
        const sent = await sendOnChain(flags, (c) => c.credits.approveRequest(Number(requestId)));
        print(sent, flags.json === true, (s) => record([["tx", s.txHash]]));
        return;
      }
      const answer = await (
        await gatewayOf(flags)
      ).post<{ request: CreditRequest }>(`/credits/requests/${requestId}/approve`);
      print(answer, flags.json === true, ({ request }) => showRequest(request));
    },
  );

  withConnection(credits.command("reject <requestId>").description("turn a pending request down (credit admins)"))
    .requiredOption("--reason <text>", "why, for the requester")
    .action(async (requestId: string, flags: ConnectionFlags & { reason: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).post<{ request: CreditRequest }>(`/credits/requests/${requestId}/reject`, { reason: flags.reason });
      print(answer, flags.json === true, ({ request }) => showRequest(request));
    });

  return credits;
}
