import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from "node:crypto";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const KEY_BYTES = 32;
const IV_BYTES = 12;
const MIN_SECRET_BYTES = 32;
const SEALED_VERSION = "v1";

/** What a sealed value is for; each purpose gets its own key, so one cannot be opened as another. */
export type SealPurpose = "wallet" | "bid" | "reserve" | "webhook" | "idempotency";
const SEAL_PURPOSES: readonly SealPurpose[] = ["wallet", "bid", "reserve", "webhook", "idempotency"];

/**
 * The gateway's master secret and the keys derived from it (HKDF-SHA256, one per purpose).
 * Sealed values are AES-256-GCM with a fresh IV, bound to their owner through the associated data.
 */
export class MasterKey {
  readonly #keys = new Map<SealPurpose, Buffer>();
  /** Keys for `mac`, apart from the encryption keys: one key, one use. */
  readonly #macKeys = new Map<SealPurpose, Buffer>();

  constructor(secret: Buffer) {
    if (secret.length < MIN_SECRET_BYTES) {
      throw new Error(`the master secret must be at least ${MIN_SECRET_BYTES} bytes, it has ${secret.length}`);
    }
    for (const purpose of SEAL_PURPOSES) {
      this.#keys.set(purpose, Buffer.from(hkdfSync("sha256", secret, "", `metalmarket/${purpose}`, KEY_BYTES)));
      this.#macKeys.set(purpose, Buffer.from(hkdfSync("sha256", secret, "", `metalmarket/${purpose}/mac`, KEY_BYTES)));
    }
  }

  /** Encrypts `plaintext`; `owner` (an address, a user id) must be given again to open it. */
  seal(purpose: SealPurpose, owner: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key(purpose), iv);
    cipher.setAAD(Buffer.from(owner));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString("base64url"));
    return [SEALED_VERSION, ...parts].join(".");
  }

  /** A keyed hash of `text` (HMAC-SHA256): comparable, but no guess of `text` can be checked without the key. */
  mac(purpose: SealPurpose, text: string): string {
    const key = this.#macKeys.get(purpose);
    if (key === undefined) throw new Error(`no key for ${purpose}`);
    return createHmac("sha256", key).update(text).digest("hex");
  }

  /** Decrypts what `seal` gave; fails on a wrong key, owner or any tampering. */
  open(purpose: SealPurpose, owner: string, sealed: string): string {
    const [version, iv, tag, body] = sealed.split(".");
    if (version !== SEALED_VERSION || !iv || !tag || body === undefined) {
      throw new Error("not a sealed value");
    }
    const decipher = createDecipheriv("aes-256-gcm", this.#key(purpose), Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(owner));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
  }

  #key(purpose: SealPurpose): Buffer {
    const key = this.#keys.get(purpose);
    if (key === undefined) throw new Error(`no key for ${purpose}`);
    return key;
  }
}

/** Reads the master secret from a file (trailing newline ignored) or from hex/base64 text. */
export async function loadMasterKey(source: { file?: string; value?: string }): Promise<MasterKey> {
  const text = source.file === undefined ? source.value : (await readFile(source.file, "utf8")).trim();
  if (text === undefined || text === "")
    throw new Error("no master secret: set masterSecretFile or MARKET_MASTER_SECRET");
  return new MasterKey(
    /^(0x)?[0-9a-fA-F]+$/.test(text) ? Buffer.from(text.replace(/^0x/, ""), "hex") : Buffer.from(text),
  );
}

/** A new random token, URL-safe. */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Hash of a high-entropy token (API key, session): what is stored instead of the token. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** True when `token` hashes to `hash`, compared in constant time. */
export function tokenMatches(token: string, hash: string): boolean {
  const given = Buffer.from(hashToken(token), "hex");
  const stored = Buffer.from(hash, "hex");
  return given.length === stored.length && timingSafeEqual(given, stored);
}

const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** A password hash for storage: scrypt with a random salt, parameters included. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_BYTES, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scryptAsync(password, Buffer.from(salt, "base64url"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

/** `Metalmarket-Signature` of a webhook body: `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}
