import type { Request, Response } from "express";
import { verifyMessage } from "ethers";
import { z } from "zod";

import { MemberRole, TenantStatus, nameOf } from "../../sdk/index.js";
import { DomainError, conflict, forbidden, invalidInput, notFound, unauthenticated } from "../errors.js";
import { SESSION_COOKIE, bearerOf, cookieValue } from "../http/router.js";
import { address, credits, idParam, isoTime, userSchema } from "../http/schemas.js";
import type { Role, User } from "../identity/users.js";
import { findTenant, memberTenantOf, tenantCounts, tenantIds } from "../readmodel/tenants.js";
import { requireTenantAdmin, requireTenantView, type Services } from "../services.js";
import { route } from "./define.js";

const TENANT_ROLES = ["tenantAdmin", "buyer", "provider"] as const;
const STAFF_ROLES = ["admin", "auditor"] as const;

export const tenantSchema = z.object({
  tenantId: z.number(),
  name: z.string(),
  status: z.enum(["active", "suspended", "deleted"]),
  createdAt: z.string(),
  members: z.number(),
  nodes: z.number(),
});

export const balanceSchema = z.object({
  address: z.string(),
  wallet: z.string().describe("credits in the account's wallet, not yet in the market"),
  available: z.string().describe("credits in the market account, free to spend"),
  escrowed: z.string().describe("credits held for leases and bids"),
});

/** A wallet's answer to a challenge: the message as issued and its `personal_sign` signature. */
const walletSignature = z
  .object({ message: z.string().min(1).max(2000), signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/) })
  .strict();

const newUserBody = (roles: readonly [Role, ...Role[]]) =>
  z
    .object({
      name: z.string().min(1).max(100),
      email: z.string().email(),
      roles: z.array(z.enum(roles)).min(1),
      password: z.string().min(8).max(200).optional().describe("for logging in to the portal"),
      address: address.optional().describe("the user's own wallet; omitted, the gateway keeps a key for them"),
      addressProof: walletSignature
        .optional()
        .describe(
          "with `address`: a `link` challenge from `POST /auth/wallet/challenge` for this email, signed by that account",
        ),
    })
    .strict()
    .superRefine((body, context) => {
      if (body.address !== undefined && body.addressProof === undefined)
        context.addIssue({
          code: "custom",
          path: ["addressProof"],
          message: "binding an account needs its signature of a link challenge",
        });
    });

const createdUser = z.object({
  user: userSchema,
  apiKey: z.string().describe("shown once: keep it; only its hash is stored"),
  txHash: z.string().nullable(),
});

/** On-chain member role bits of gateway roles. */
function memberBits(roles: readonly Role[]): number {
  let bits = 0;
  if (roles.includes("tenantAdmin")) bits |= MemberRole.TenantAdmin;
  if (roles.includes("buyer")) bits |= MemberRole.Buyer;
  if (roles.includes("provider")) bits |= MemberRole.Provider;
  return bits;
}

export async function balanceOf(services: Services, account: string): Promise<z.infer<typeof balanceSchema>> {
  const [wallet, [available, escrowed]] = await Promise.all([
    services.market.credits.balanceOf(account),
    services.market.market.accountOf(account),
  ]);
  return {
    address: account,
    wallet: credits(wallet) ?? "0",
    available: credits(available) ?? "0",
    escrowed: credits(escrowed) ?? "0",
  };
}

async function tenantView(services: Services, tenantId: number): Promise<z.infer<typeof tenantSchema>> {
  const row = await findTenant(services.db, tenantId);
  if (row === undefined) throw notFound(`tenant ${tenantId}`);
  return {
    tenantId: Number(row.tenant_id),
    name: row.name,
    status: String(nameOf(TenantStatus, Number(row.status))).toLowerCase() as "active",
    createdAt: isoTime(row.created_at) ?? "",
    ...(await tenantCounts(services.db, tenantId)),
  };
}

export const publicUser = (user: User): z.infer<typeof userSchema> => ({
  userId: user.userId,
  tenantId: user.tenantId,
  name: user.name,
  email: user.email,
  roles: user.roles,
  address: user.address,
  custodial: user.custodial,
  disabled: user.disabled,
});

/** Creates a user: their custodial key (unless they bring a wallet), on-chain membership, API key. */
async function createUser(
  services: Services,
  caller: User,
  tenantId: number | null,
  body: z.infer<ReturnType<typeof newUserBody>>,
): Promise<z.infer<typeof createdUser>> {
  if ((await services.users.byEmail(body.email)) !== undefined) {
    throw conflict(`a user with email ${body.email} exists`, "body.email");
  }
  const custodial = body.address === undefined;
  if (body.address !== undefined) await requireLinkableAccount(services, body.address, body.email, body.addressProof);
  const account = body.address ?? (await services.wallets.create());
  let txHash: string | null = null;
  if (tenantId !== null) {
    const enroller = await enrollerFor(services, caller);
    txHash = (await services.send(enroller, (c) => c.market.addMember(tenantId, account, memberBits(body.roles))))
      .txHash;
  } else if (body.roles.includes("admin")) {
    const operatorRole = await services.market.market.OPERATOR_ROLE();
    const creditAdminRole = await services.market.credits.CREDIT_ADMIN_ROLE();
    await services.send(caller, (c) => c.market.grantRole(operatorRole, account));
    txHash = (await services.send(caller, (c) => c.credits.grantRole(creditAdminRole, account))).txHash;
  }
  if (custodial) await services.wallets.fund(account, services.operator, services.gas);
  const user = await services.users.create({
    tenantId,
    name: body.name,
    email: body.email,
    roles: body.roles,
    address: account,
    custodial,
    password: body.password,
  });
  const { token } = await services.users.issueApiKey(user.userId, "created with the user");
  return { user: publicUser(user), apiKey: token, txHash };
}

/**
 * Who sends a new member's `addMember`. On-chain only the operator enrols at once: a tenant admin's
 * `addMember` is an invitation that the account must accept, since an account can belong to one
 * tenant only. Here the account's consent is already given (a custodial account the gateway just
 * made, or a wallet whose owner signed the link challenge), and the route checked the caller's
 * authority over the tenant, so the operator enrols on a tenant admin's behalf.
 */
async function enrollerFor(services: Services, caller: User): Promise<User> {
  if (await services.market.market.isOperator(caller.address)) return caller;
  const operator = (await services.users.byAddress(services.operator))[0];
  if (operator === undefined) throw new Error(`the gateway holds no user for the operator ${services.operator}`);
  return operator;
}

/**
 * An account may be bound to a new user only by whoever controls it (its signature of a live link
 * challenge naming this user's email), and only once: never one the gateway holds a key for, one a
 * user ever had (a removed user's history stays theirs), or one already in a tenant on-chain.
 */
async function requireLinkableAccount(
  services: Services,
  account: string,
  email: string,
  proof: z.infer<typeof walletSignature> | undefined,
): Promise<void> {
  const taken =
    (await services.users.knowsAddress(account)) ||
    (await services.wallets.holds(account)) ||
    (await memberTenantOf(services.db, account)) !== undefined;
  if (taken) throw conflict("this account already belongs to someone in the market", "body.address");
  const signer =
    proof === undefined
      ? undefined
      : await services.users.redeemChallenge(proof.message, { kind: "link", email }, (message) =>
          verifyMessage(message, proof.signature),
        );
  if (signer !== account.toLowerCase()) {
    throw new DomainError(
      "invalid",
      "invalid-request",
      "The request is not valid",
      "body.addressProof: not a live link challenge for this email signed by body.address; ask for a new one",
      [{ field: "body.addressProof", message: "does not prove control of body.address" }],
    );
  }
}

async function userInScope(services: Services, caller: User, userId: string): Promise<User> {
  const user = await services.users.byId(userId);
  if (user === undefined) throw notFound(`user ${userId}`);
  if (caller.userId === user.userId || caller.roles.includes("admin") || caller.roles.includes("auditor")) return user;
  if (user.tenantId !== null && caller.tenantId === user.tenantId && caller.roles.includes("tenantAdmin")) return user;
  throw notFound(`user ${userId}`);
}

export const identityRoutes = [
  route({
    method: "post",
    path: "/auth/login",
    tag: "identity",
    summary: "Log in with email and password; sets a session cookie and returns the session token",
    access: "public",
    body: z.object({ email: z.string().email(), password: z.string().min(1).max(200) }).strict(),
    response: z.object({ token: z.string(), expiresAt: z.string(), user: userSchema }),
    async handler({ body, services, req, res }) {
      const session = await services.users.login(body.email, body.password);
      if (session === undefined) {
        throw unauthenticated("the email or password is wrong", [
          { field: "body.password", message: "does not match" },
        ]);
      }
      return startSession(session, req, res);
    },
  }),

  route({
    method: "post",
    path: "/auth/wallet/challenge",
    tag: "identity",
    summary: "A message for a wallet to sign (EIP-4361 style), valid for five minutes",
    description:
      "`sign-in` (the default): sign it with `personal_sign` and send it to `POST /auth/wallet`. " +
      "`link`: the account's owner signs it to prove control when a user is created with that account " +
      "(`addressProof` of `POST /tenants/{tenantId}/users`).",
    access: "public",
    body: z
      .object({
        address,
        purpose: z.enum(["sign-in", "link"]).default("sign-in"),
        email: z.string().email().optional().describe("with `link`: the email of the user the account is for"),
      })
      .strict()
      .superRefine((body, context) => {
        if (body.purpose === "link" && body.email === undefined)
          context.addIssue({ code: "custom", path: ["email"], message: "a link challenge names the user's email" });
      }),
    response: z.object({ message: z.string(), expiresAt: z.string() }),
    async handler({ body, services }) {
      const origin = new URL(services.origin);
      const challenge = await services.users.walletChallenge(
        body.address,
        { host: origin.host, origin: origin.origin, chainId: services.deployment.chainId },
        body.purpose === "link" ? { kind: "link", email: body.email ?? "" } : { kind: "sign-in" },
      );
      return { message: challenge.message, expiresAt: isoTime(challenge.expiresAt) ?? "" };
    },
  }),

  route({
    method: "post",
    path: "/auth/wallet",
    tag: "identity",
    summary: "Log in with a wallet: a challenge from `/auth/wallet/challenge`, signed by the user's account",
    access: "public",
    body: walletSignature,
    response: z.object({ token: z.string(), expiresAt: z.string(), user: userSchema }),
    async handler({ body, services, req, res }) {
      const session = await services.users.walletLogin(body.message, (message) =>
        verifyMessage(message, body.signature),
      );
      if (session === undefined) {
        throw unauthenticated("the signature, the challenge or the account is not valid: ask for a new challenge", [
          { field: "body.signature", message: "does not sign a live challenge of a wallet user" },
        ]);
      }
      return startSession(session, req, res);
    },
  }),

  route({
    method: "get",
    path: "/chain",
    tag: "identity",
    summary: "The chain and contracts the market lives on, for wallets that sign their own transactions",
    access: "public",
    response: z.object({
      chainId: z.number(),
      contracts: z.record(z.string(), z.string()),
      schedule: z.object({
        genesis: z.number().describe("unix seconds: when round 1 opens"),
        commitSeconds: z.number(),
        revealSeconds: z.number(),
      }),
      blockSeconds: z
        .number()
        .describe("seconds between blocks (0: a block per transaction); deadlines keep one block of margin"),
      defaultImage: z.string(),
    }),
    async handler({ services }) {
      const { genesis, commitSeconds, revealSeconds } = services.deployment.schedule;
      return {
        chainId: services.deployment.chainId,
        contracts: services.deployment.contracts,
        schedule: { genesis, commitSeconds, revealSeconds },
        blockSeconds: (await services.clock()).blockSeconds,
        defaultImage: services.settings.defaultImage,
      };
    },
  }),

  route({
    method: "post",
    path: "/auth/logout",
    tag: "identity",
    summary: "End the current session",
    access: "user",
    response: z.object({ loggedOut: z.boolean() }),
    async handler({ caller, services, req, res }) {
      const bearer = bearerOf(req);
      const token =
        bearer !== undefined && !bearer.startsWith("mm_") ? bearer : cookieValue(req.headers.cookie, SESSION_COOKIE);
      if (token !== undefined) await services.users.logout(token);
      await services.streams.recheck(caller.userId);
      res.clearCookie(SESSION_COOKIE, { path: "/" });
      return { loggedOut: token !== undefined };
    },
  }),

  route({
    method: "get",
    path: "/me",
    tag: "identity",
    summary: "Who I am, and my credits",
    access: "user",
    response: z.object({ user: userSchema, credits: balanceSchema }),
    async handler({ caller, services }) {
      return { user: publicUser(caller), credits: await balanceOf(services, caller.address) };
    },
  }),

  route({
    method: "post",
    path: "/me/api-keys",
    tag: "identity",
    summary: "Issue a new API key for myself (shown once)",
    access: "user",
    status: 201,
    body: z.object({ label: z.string().min(1).max(100) }).strict(),
    response: z.object({ keyId: z.string(), apiKey: z.string() }),
    async handler({ body, caller, services }) {
      const { keyId, token } = await services.users.issueApiKey(caller.userId, body.label);
      return { keyId, apiKey: token };
    },
  }),

  route({
    method: "delete",
    path: "/me/api-keys/:keyId",
    tag: "identity",
    summary: "Revoke one of my API keys",
    access: "user",
    params: z.object({ keyId: z.string().regex(/^[A-Za-z0-9]{12}$/) }).strict(),
    response: z.object({ revoked: z.boolean() }),
    async handler({ params, caller, services }) {
      if (!(await services.users.revokeApiKey(caller.userId, params.keyId))) throw notFound(`key ${params.keyId}`);
      await services.streams.recheck(caller.userId);
      return { revoked: true };
    },
  }),

  route({
    method: "get",
    path: "/tenants",
    tag: "tenants",
    summary: "Tenants: all for staff, your own otherwise",
    access: "user",
    response: z.object({ tenants: z.array(tenantSchema) }),
    async handler({ caller, services }) {
      const staff = caller.roles.includes("admin") || caller.roles.includes("auditor");
      const ids = (await tenantIds(services.db)).filter((id) => staff || id === caller.tenantId);
      return { tenants: await Promise.all(ids.map((id) => tenantView(services, id))) };
    },
  }),

  route({
    method: "post",
    path: "/tenants",
    tag: "tenants",
    summary: "Create a tenant (an organisation)",
    access: ["admin"],
    status: 201,
    body: z.object({ name: z.string().min(1).max(100) }).strict(),
    response: z.object({ tenant: tenantSchema, txHash: z.string() }),
    async handler({ body, caller, services }) {
      const sent = await services.send(caller, (c) => c.market.createTenant(body.name));
      const created = sent.events.find((event) => event.name === "TenantCreated");
      if (created === undefined) throw new Error("no TenantCreated event");
      return { tenant: await tenantView(services, Number(created.args.tenantId)), txHash: sent.txHash };
    },
  }),

  route({
    method: "get",
    path: "/tenants/:tenantId",
    tag: "tenants",
    summary: "One tenant",
    access: "user",
    params: idParam("tenantId"),
    response: tenantSchema,
    async handler({ params, caller, services }) {
      requireTenantView(caller, params.tenantId);
      return tenantView(services, params.tenantId);
    },
  }),

  ...(["suspend", "resume"] as const).map((action) =>
    route({
      method: "post",
      path: `/tenants/:tenantId/${action}`,
      tag: "tenants",
      summary: action === "suspend" ? "Suspend a tenant: its members cannot trade" : "Resume a suspended tenant",
      access: ["admin"],
      params: idParam("tenantId"),
      response: z.object({ tenant: tenantSchema, txHash: z.string() }),
      async handler({ params, caller, services }) {
        const sent = await services.send(caller, (c) =>
          action === "suspend" ? c.market.suspendTenant(params.tenantId) : c.market.resumeTenant(params.tenantId),
        );
        return { tenant: await tenantView(services, params.tenantId), txHash: sent.txHash };
      },
    }),
  ),

  route({
    method: "get",
    path: "/tenants/:tenantId/users",
    tag: "tenants",
    summary: "A tenant's users",
    access: ["admin", "auditor", "tenantAdmin"],
    params: idParam("tenantId"),
    response: z.object({ users: z.array(userSchema) }),
    async handler({ params, caller, services }) {
      requireTenantView(caller, params.tenantId);
      return { users: (await services.users.list({ tenantId: params.tenantId })).map(publicUser) };
    },
  }),

  route({
    method: "post",
    path: "/tenants/:tenantId/users",
    tag: "tenants",
    summary: "Add a user to a tenant, with roles; answers their first API key once",
    access: ["admin", "tenantAdmin"],
    status: 201,
    params: idParam("tenantId"),
    body: newUserBody(TENANT_ROLES),
    response: createdUser,
    async handler({ params, body, caller, services }) {
      requireTenantAdmin(caller, params.tenantId);
      await tenantView(services, params.tenantId);
      return createUser(services, caller, params.tenantId, body);
    },
  }),

  route({
    method: "get",
    path: "/users",
    tag: "tenants",
    summary: "Every user",
    access: ["admin", "auditor"],
    response: z.object({ users: z.array(userSchema) }),
    async handler({ services }) {
      return { users: (await services.users.list({})).map(publicUser) };
    },
  }),

  route({
    method: "post",
    path: "/users",
    tag: "tenants",
    summary: "Add a marketplace admin or auditor",
    access: ["admin"],
    status: 201,
    body: newUserBody(STAFF_ROLES),
    response: createdUser,
    async handler({ body, caller, services }) {
      return createUser(services, caller, null, body);
    },
  }),

  route({
    method: "get",
    path: "/users/:userId",
    tag: "tenants",
    summary: "One user",
    access: "user",
    params: z.object({ userId: z.string().uuid() }).strict(),
    response: userSchema,
    async handler({ params, caller, services }) {
      return publicUser(await userInScope(services, caller, params.userId));
    },
  }),

  route({
    method: "put",
    path: "/users/:userId/roles",
    tag: "tenants",
    summary: "Change a tenant member's roles",
    access: ["admin", "tenantAdmin"],
    params: z.object({ userId: z.string().uuid() }).strict(),
    body: z.object({ roles: z.array(z.enum(TENANT_ROLES)).min(1) }).strict(),
    response: z.object({ user: userSchema, txHash: z.string() }),
    async handler({ params, body, caller, services }) {
      const user = await userInScope(services, caller, params.userId);
      if (user.tenantId === null) throw invalidInput("path.userId", "not a tenant member");
      requireTenantAdmin(caller, user.tenantId);
      const sent = await services.send(caller, (c) => c.market.setMemberRoles(user.address, memberBits(body.roles)));
      await services.users.setRoles(user.userId, body.roles);
      return { user: publicUser({ ...user, roles: body.roles }), txHash: sent.txHash };
    },
  }),

  route({
    method: "delete",
    path: "/users/:userId",
    tag: "tenants",
    summary: "Remove a user: off the tenant on-chain, keys and sessions revoked",
    access: ["admin", "tenantAdmin"],
    params: z.object({ userId: z.string().uuid() }).strict(),
    response: z.object({ user: userSchema, txHash: z.string().nullable() }),
    async handler({ params, caller, services }) {
      const user = await userInScope(services, caller, params.userId);
      if (user.tenantId !== null) requireTenantAdmin(caller, user.tenantId);
      else if (!caller.roles.includes("admin")) throw forbidden("only admins remove staff");
      if (user.userId === caller.userId) throw conflict("you cannot remove yourself", "path.userId");
      const txHash =
        user.tenantId === null
          ? null
          : (await services.send(caller, (c) => c.market.removeMember(user.address))).txHash;
      await services.users.disable(user.userId);
      await services.streams.recheck(user.userId);
      return { user: publicUser({ ...user, disabled: true }), txHash };
    },
  }),
];

/** Sets the session cookie (for the portal) and answers the token (for programs). */
function startSession(
  session: { token: string; expiresAt: number; user: User },
  req: Request,
  res: Response,
): { token: string; expiresAt: string; user: ReturnType<typeof publicUser> } {
  res.cookie(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: "strict",
    secure: req.secure,
    path: "/",
    expires: new Date(session.expiresAt * 1000),
  });
  return { token: session.token, expiresAt: isoTime(session.expiresAt) ?? "", user: publicUser(session.user) };
}
