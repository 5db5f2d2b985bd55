import { readFile } from "node:fs/promises";

import { Command, Option } from "commander";

import type { Tenant, User } from "../../../api/records.js";
import { readPassword } from "../../../sdk/index.js";
import { gatewayOf, onChain, withConnection, type ConnectionFlags } from "../connection.js";
import { print, record, table } from "../output.js";
import { sendOnChain } from "./chain.js";

const ROLES = ["admin", "tenantAdmin", "buyer", "provider", "auditor"];

/** `market tenants ...`: the organisations in the market. */
export function tenantsCommand(): Command {
  const tenants = new Command("tenants").description("the organisations in the market (admins create them)");
  withConnection(tenants.command("list").description("list tenants")).action(async (flags: ConnectionFlags) => {
    const answer = await (await gatewayOf(flags)).get<{ tenants: Tenant[] }>("/tenants");
    print(answer, flags.json === true, ({ tenants: rows }) =>
      table(rows, [
        ["id", (t) => t.tenantId],
        ["name", (t) => t.name],
        ["status", (t) => t.status],
        ["members", (t) => t.members],
        ["nodes", (t) => t.nodes],
        ["created", (t) => t.createdAt],
      ]),
    );
  });
  withConnection(tenants.command("create <name>").description("create a tenant")).action(
    async (name: string, flags: ConnectionFlags) => {
      if (onChain(flags)) {
        const sent = await sendOnChain(flags, (c) => c.market.createTenant(name));
        const created = sent.events.find((event) => event.name === "TenantCreated");
        print(sent, flags.json === true, (s) =>
          record([
            ["tenant", `${String(created?.args.tenantId)} (${name})`],
            ["tx", s.txHash],
          ]),
        );
        return;
      }
      const answer = await (await gatewayOf(flags)).post<{ tenant: Tenant; txHash: string }>("/tenants", { name });
      print(answer, flags.json === true, ({ tenant, txHash }) =>
        record([
          ["tenant", `${tenant.tenantId} (${tenant.name})`],
          ["tx", txHash],
        ]),
      );
    },
  );
  return tenants;
}

/** `market users ...`: people and programs, with their roles. */
export function usersCommand(): Command {
  const users = new Command("users").description("people and programs, their roles and API keys");
  withConnection(users.command("list").description("list users (of one tenant with --tenant)"))
    .option("--tenant <id>", "only this tenant's users")
    .action(async (flags: ConnectionFlags & { tenant?: string }) => {
      const path = flags.tenant === undefined ? "/users" : `/tenants/${flags.tenant}/users`;
      const answer = await (await gatewayOf(flags)).get<{ users: User[] }>(path);
      print(answer, flags.json === true, ({ users: rows }) =>
        table(rows, [
          ["id", (u) => u.userId],
          ["tenant", (u) => u.tenantId],
          ["name", (u) => u.name],
          ["email", (u) => u.email],
          ["roles", (u) => u.roles.join(",")],
          ["address", (u) => u.address],
          ["keys", (u) => (u.custodial ? "gateway" : "own wallet")],
        ]),
      );
    });
  withConnection(
    users
      .command("link-challenge")
      .description("the message a wallet's owner signs (personal_sign) so that it can be bound to a new user"),
  )
    .requiredOption("--address <address>", "the wallet's account")
    .requiredOption("--email <email>", "the email of the user it is for")
    .action(async (flags: ConnectionFlags & { address: string; email: string }) => {
      const answer = await (
        await gatewayOf(flags)
      ).post<{ message: string; expiresAt: string }>("/auth/wallet/challenge", {
        address: flags.address,
        purpose: "link",
        email: flags.email,
      });
      print(answer, flags.json === true, ({ message }) => message);
    });
  withConnection(users.command("create").description("create a user; prints their API key once"))
    .requiredOption("--name <name>", "their name")
    .requiredOption("--email <email>", "their email, to log in with")
    .addOption(new Option("--role <role...>", "their roles").choices(ROLES).makeOptionMandatory())
    .option("--tenant <id>", "the tenant they belong to (omit for staff: admins and auditors)")
    .option("--password-file <file>", "file holding their portal password")
    .option("--address <address>", "their own wallet; omitted, the gateway keeps a key for them")
    .option(
      "--address-proof <file>",
      'with --address: JSON {"message", "signature"}, the wallet\'s signature of `users link-challenge`',
    )
    .action(
      async (
        flags: ConnectionFlags & {
          name: string;
          email: string;
          role: string[];
          tenant?: string;
          passwordFile?: string;
          address?: string;
          addressProof?: string;
        },
      ) => {
        const body = {
          name: flags.name,
          email: flags.email,
          roles: flags.role,
          ...(flags.passwordFile === undefined ? {} : { password: await readPassword(flags.passwordFile) }),
          ...(flags.address === undefined ? {} : { address: flags.address }),
          ...(flags.addressProof === undefined
            ? {}
            : { addressProof: JSON.parse(await readFile(flags.addressProof, "utf8")) as unknown }),
        };
        const path = flags.tenant === undefined ? "/users" : `/tenants/${flags.tenant}/users`;
        const answer = await (await gatewayOf(flags)).post<{ user: User; apiKey: string }>(path, body);
        print(answer, flags.json === true, ({ user, apiKey }) =>
          record([
            ["user", `${user.userId} (${user.email})`],
            ["address", user.address],
            ["API key", `${apiKey}  (shown once: keep it in a file)`],
          ]),
        );
      },
    );
  return users;
}
