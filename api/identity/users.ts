import { randomUUID } from "node:crypto";

import type { Db } from "../db/database.js";
import { hashPassword, hashToken, newToken, tokenMatches, verifyPassword } from "./secrets.js";

/** What a user may do. `admin` runs the marketplace; the rest act within their tenant. */
export const ROLES = ["admin", "tenantAdmin", "buyer", "provider", "auditor"] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  userId: string;
  /** The on-chain tenant, or `null` for the marketplace's own staff (admins, auditors). */
  tenantId: number | null;
  name: string;
  email: string;
  roles: Role[];
  /** The account the user acts as on-chain. */
  address: string;
  /** True when the gateway holds the key (custodial); false for a user's own wallet. */
  custodial: boolean;
  createdAt: number;
  disabled: boolean;
}

/** API keys read `mm_<keyId>_<secret>`: the id finds the row, the secret is checked against its hash. */
const API_KEY_PATTERN = /^mm_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const SESSION_SECONDS = 12 * 60 * 60;
/** How long a wallet has to sign a sign-in challenge. */
const CHALLENGE_SECONDS = 5 * 60;
/**
 * How long a credential, once found valid, is taken as valid without asking the database again.
 * Changes made here (a key revoked, a user disabled, a role changed, a logout) apply at once; one
 * made by another gateway sharing the database applies here within this time.
 */
const CREDENTIAL_CACHE_MS = 1000;
/** Past this many remembered credentials, all are forgotten (a bound, not a policy). */
const CREDENTIAL_CACHE_SIZE = 10_000;

interface UserRow {
  user_id: string;
  tenant_id: number | null;
  name: string;
  email: string;
  roles: string;
  address: string;
  custodial: number;
  created_at: number;
  disabled: number;
}

/** Where a wallet challenge is shown: the gateway's public origin, never a request's Host header. */
export interface ChallengeSite {
  host: string;
  origin: string;
  chainId: number;
}

/** What a wallet's signature of a challenge is for. */
export type ChallengePurpose = { kind: "sign-in" } | { kind: "link"; email: string };

function statementOf(purpose: ChallengePurpose): string {
  return purpose.kind === "sign-in"
    ? "Sign in to Metalmarket."
    : `Link this account to the Metalmarket user ${purpose.email.toLowerCase()}.`;
}

export interface NewUser {
  tenantId: number | null;
  name: string;
  email: string;
  roles: Role[];
  address: string;
  custodial: boolean;
  password?: string;
}

/** Users, their API keys (stored hashed) and login sessions (stored hashed). */
export class Users {
  readonly #db: Db;
  #decoy: Promise<string> | undefined;
  /**
   * Credentials found valid a moment ago: by API key id (with the secret's hash, still checked on
   * every request) and by session token hash. Looking them up and hashing on every request cost
   * two queries each, most of an authenticated read's database work.
   */
  readonly #recent = new Map<string, { user: User; secretHash?: string; until: number }>();
  /** Counts the changes that void remembered credentials: a look-up begun before one is not remembered. */
  #epoch = 0;

  private constructor(db: Db) {
    this.#db = db;
  }

  /** A password hash nobody knows the password of, made once: what unknown emails are checked against. */
  #decoyHash(): Promise<string> {
    this.#decoy ??= hashPassword(newToken(32));
    return this.#decoy;
  }

  static async open(db: Db): Promise<Users> {
    return new Users(db);
  }

  async create(user: NewUser): Promise<User> {
    const userId = randomUUID();
    const createdAt = Math.floor(Date.now() / 1000);
    await this.#db.run(
      `INSERT INTO users (user_id, tenant_id, name, email, roles, address, custodial, password_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        userId,
        user.tenantId,
        user.name,
        user.email.toLowerCase(),
        user.roles.join(","),
        user.address.toLowerCase(),
        user.custodial ? 1 : 0,
        user.password === undefined ? null : await hashPassword(user.password),
        createdAt,
      ],
    );
    const created = await this.byId(userId);
    if (created === undefined) throw new Error("the new user was not stored");
    return created;
  }

  async byId(userId: string): Promise<User | undefined> {
    const row = await this.#db.get<UserRow>("SELECT * FROM users WHERE user_id = $1", [userId]);
    return row === undefined ? undefined : userOf(row);
  }

  async byEmail(email: string): Promise<User | undefined> {
    const row = await this.#db.get<UserRow>("SELECT * FROM users WHERE email = $1", [email.toLowerCase()]);
    return row === undefined ? undefined : userOf(row);
  }

  async byAddress(address: string): Promise<User[]> {
    const rows = await this.#db.all<UserRow>("SELECT * FROM users WHERE address = $1", [address.toLowerCase()]);
    return rows.map(userOf);
  }

  async list(filter: { tenantId?: number }): Promise<User[]> {
    const rows =
      filter.tenantId === undefined
        ? await this.#db.all<UserRow>("SELECT * FROM users ORDER BY created_at, user_id")
        : await this.#db.all<UserRow>("SELECT * FROM users WHERE tenant_id = $1 ORDER BY created_at, user_id", [
            filter.tenantId,
          ]);
    return rows.map(userOf);
  }

  async setRoles(userId: string, roles: Role[]): Promise<void> {
    await this.#db.run("UPDATE users SET roles = $2 WHERE user_id = $1", [userId, roles.join(",")]);
    this.#forget();
  }

  /** Disables a user and, in the same transaction, revokes their keys and ends their sessions. */
  async disable(userId: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.run("UPDATE users SET disabled = 1 WHERE user_id = $1", [userId]);
      await tx.run("UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL", [userId, now()]);
      await tx.run("DELETE FROM sessions WHERE user_id = $1", [userId]);
    });
    this.#forget();
  }

  /** Issues an API key; the returned token is shown once and only its hash is kept. */
  async issueApiKey(userId: string, label: string): Promise<{ keyId: string; token: string }> {
    const keyId = newToken(9).replace(/[-_]/g, "0").slice(0, 12);
    const secret = newToken(32);
    await this.#db.run(
      "INSERT INTO api_keys (key_id, user_id, secret_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
      [keyId, userId, hashToken(secret), label, now()],
    );
    return { keyId, token: `mm_${keyId}_${secret}` };
  }

  async revokeApiKey(userId: string, keyId: string): Promise<boolean> {
    const changed = await this.#db.run(
      "UPDATE api_keys SET revoked_at = $3 WHERE key_id = $1 AND user_id = $2 AND revoked_at IS NULL",
      [keyId, userId, now()],
    );
    this.#forget();
    return changed > 0;
  }

  /** The active user an API key token belongs to. */
  async byApiKey(token: string): Promise<User | undefined> {
    const match = API_KEY_PATTERN.exec(token);
    if (match === null) return undefined;
    const [, keyId = "", secret = ""] = match;
    const recent = this.#remembered(`key:${keyId}`);
    if (recent?.secretHash !== undefined) return tokenMatches(secret, recent.secretHash) ? recent.user : undefined;
    const epoch = this.#epoch;
    const key = await this.#db.get<{ user_id: string; secret_hash: string }>(
      "SELECT user_id, secret_hash FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
      [keyId],
    );
    if (key === undefined || !tokenMatches(secret, key.secret_hash)) return undefined;
    const user = await this.#active(key.user_id);
    if (user !== undefined) this.#remember(epoch, `key:${keyId}`, { user, secretHash: key.secret_hash });
    return user;
  }

  /** Checks a password and opens a session; the token is returned once, its hash kept. */
  async login(email: string, password: string): Promise<{ token: string; user: User; expiresAt: number } | undefined> {
    const row = await this.#db.get<UserRow & { password_hash: string | null }>(
      "SELECT * FROM users WHERE email = $1 AND disabled = 0",
      [email.toLowerCase()],
    );
    // An unknown email costs the same scrypt as a wrong password, so timing tells no one which
    // emails have accounts.
    const stored = row?.password_hash ?? (await this.#decoyHash());
    const matches = await verifyPassword(password, stored);
    if (row === undefined || row.password_hash === null || !matches) return undefined;
    return this.#openSession(userOf(row));
  }

  /**
   * A message for a wallet to sign (after EIP-4361, "Sign-In with Ethereum"): it names the site,
   * the account, the chain, what the signature is for and a single-use nonce, and expires in five
   * minutes. `purpose` is a sign-in, or linking the account to the user with `email` (proof that
   * whoever binds an account to a user controls it).
   */
  async walletChallenge(address: string, site: ChallengeSite, purpose: ChallengePurpose) {
    const nonce = newToken(12).replace(/[-_]/g, "0");
    const issuedAt = now();
    const expiresAt = issuedAt + CHALLENGE_SECONDS;
    const message = [
      `${site.host} wants you to sign in with your Ethereum account:`,
      address,
      "",
      statementOf(purpose),
      "",
      `URI: ${site.origin}`,
      "Version: 1",
      `Chain ID: ${site.chainId}`,
      `Nonce: ${nonce}`,
      `Issued At: ${new Date(issuedAt * 1000).toISOString()}`,
      `Expiration Time: ${new Date(expiresAt * 1000).toISOString()}`,
    ].join("\n");
    await this.#db.run("DELETE FROM wallet_challenges WHERE expires_at < $1", [issuedAt]);
    await this.#db.run("INSERT INTO wallet_challenges (nonce, address, message, expires_at) VALUES ($1, $2, $3, $4)", [
      nonce,
      address.toLowerCase(),
      message,
      expiresAt,
    ]);
    return { message, expiresAt };
  }

  /**
   * The account that signed `message`, a live challenge for `purpose` this gateway issued and
   * nobody used yet; undefined when anything does not hold. A challenge is used up either way.
   */
  async redeemChallenge(
    message: string,
    purpose: ChallengePurpose,
    signerOf: (message: string) => string,
  ): Promise<string | undefined> {
    const nonce = /^Nonce: (\S+)$/m.exec(message)?.[1];
    if (nonce === undefined) return undefined;
    const challenge = await this.#db.get<{ address: string; message: string; expires_at: number }>(
      "SELECT address, message, expires_at FROM wallet_challenges WHERE nonce = $1",
      [nonce],
    );
    await this.#db.run("DELETE FROM wallet_challenges WHERE nonce = $1", [nonce]);
    if (challenge === undefined || challenge.message !== message || Number(challenge.expires_at) < now())
      return undefined;
    if (message.split("\n")[3] !== statementOf(purpose)) return undefined;
    let signer: string;
    try {
      signer = signerOf(message);
    } catch {
      return undefined; // not a signature at all
    }
    return signer.toLowerCase() === challenge.address ? challenge.address : undefined;
  }

  /** Opens a session for the wallet user whose account signed `message`, a sign-in challenge. */
  async walletLogin(
    message: string,
    signerOf: (message: string) => string,
  ): Promise<{ token: string; user: User; expiresAt: number } | undefined> {
    const account = await this.redeemChallenge(message, { kind: "sign-in" }, signerOf);
    if (account === undefined) return undefined;
    const user = (await this.byAddress(account)).find((u) => !u.custodial && !u.disabled);
    return user === undefined ? undefined : this.#openSession(user);
  }

  /**
   * True when `address` was ever any user's account (also a removed user's): an account serves
   * one user for good, so nobody can take over another's account or read its history.
   */
  async knowsAddress(address: string): Promise<boolean> {
    const row = await this.#db.get<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE address = $1", [
      address.toLowerCase(),
    ]);
    return Number(row?.n ?? 0) > 0;
  }

  async #openSession(user: User): Promise<{ token: string; user: User; expiresAt: number }> {
    const token = newToken(32);
    const expiresAt = now() + SESSION_SECONDS;
    await this.#db.run("DELETE FROM sessions WHERE expires_at < $1", [now()]);
    await this.#db.run("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)", [
      hashToken(token),
      user.userId,
      expiresAt,
    ]);
    return { token, user, expiresAt };
  }

  async bySession(token: string): Promise<User | undefined> {
    const tokenHash = hashToken(token);
    const recent = this.#remembered(`session:${tokenHash}`);
    if (recent !== undefined) return recent.user;
    const epoch = this.#epoch;
    const session = await this.#db.get<{ user_id: string; expires_at: number }>(
      "SELECT user_id, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
      [tokenHash, now()],
    );
    const user = session === undefined ? undefined : await this.#active(session.user_id);
    if (session !== undefined && user !== undefined) {
      this.#remember(epoch, `session:${tokenHash}`, { user }, Number(session.expires_at) * 1000);
    }
    return user;
  }

  #forget(): void {
    this.#epoch += 1;
    this.#recent.clear();
  }

  #remembered(key: string): { user: User; secretHash?: string } | undefined {
    const entry = this.#recent.get(key);
    if (entry === undefined || entry.until > Date.now()) return entry;
    this.#recent.delete(key);
    return undefined;
  }

  /**
   * Remembers a credential found valid for a moment, never past `expiresAtMs` (a session's end),
   * unless something changed since its look-up began at `epoch`.
   */
  #remember(epoch: number, key: string, entry: { user: User; secretHash?: string }, expiresAtMs = Infinity): void {
    if (epoch !== this.#epoch) return;
    if (this.#recent.size >= CREDENTIAL_CACHE_SIZE) this.#recent.clear();
    this.#recent.set(key, { ...entry, until: Math.min(Date.now() + CREDENTIAL_CACHE_MS, expiresAtMs) });
  }

  async logout(token: string): Promise<void> {
    await this.#db.run("DELETE FROM sessions WHERE token_hash = $1", [hashToken(token)]);
    this.#forget();
  }

  async #active(userId: string): Promise<User | undefined> {
    const user = await this.byId(userId);
    return user === undefined || user.disabled ? undefined : user;
  }
}

function userOf(row: UserRow): User {
  return {
    userId: row.user_id,
    tenantId: row.tenant_id === null ? null : Number(row.tenant_id),
    name: row.name,
    email: row.email,
    roles: row.roles === "" ? [] : (row.roles.split(",") as Role[]),
    address: row.address,
    custodial: Number(row.custodial) === 1,
    createdAt: Number(row.created_at),
    disabled: Number(row.disabled) === 1,
  };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
