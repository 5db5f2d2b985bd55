import { Wallet, type Provider } from "ethers";

import {
  ManagedSigner,
  attach,
  type Deployment,
  type MarketContracts,
  type TransactionDefaults,
} from "../../sdk/index.js";
import type { Db } from "../db/database.js";
import type { MasterKey } from "./secrets.js";
import type { SigningThread } from "./signing.js";

/** Native currency a custodial account gets for gas, on chains where gas costs something. */
export interface GasAllowance {
  /** Top an account up when its balance is below this (wei); 0 turns funding off (Quorum, zero gas). */
  minimumWei: bigint;
  /** What a top-up brings the balance to (wei). */
  targetWei: bigint;
}

/**
 * Custodial keys: generated here, kept only sealed with the master key (bound to their address),
 * opened in memory to sign (on a thread of their own, `signing.ts`), never logged or returned. One
 * `ManagedSigner` per account hands out its nonces, so concurrent requests of one user neither
 * collide nor leave gaps.
 */
export class Wallets {
  readonly #db: Db;
  readonly #master: MasterKey;
  readonly #provider: Provider;
  readonly #deployment: Deployment;
  readonly #defaults: TransactionDefaults;
  readonly #signing: SigningThread | undefined;
  readonly #signers = new Map<string, Promise<ManagedSigner>>();
  readonly #contracts = new Map<string, Promise<MarketContracts>>();

  private constructor(
    db: Db,
    master: MasterKey,
    provider: Provider,
    deployment: Deployment,
    defaults: TransactionDefaults,
    signing: SigningThread | undefined,
  ) {
    this.#db = db;
    this.#master = master;
    this.#provider = provider;
    this.#deployment = deployment;
    this.#defaults = defaults;
    this.#signing = signing;
  }

  /** `signing`: where custodial transactions are signed; in-line when not given. */
  static async open(
    db: Db,
    master: MasterKey,
    provider: Provider,
    deployment: Deployment,
    defaults: TransactionDefaults = {},
    signing?: SigningThread,
  ): Promise<Wallets> {
    return new Wallets(db, master, provider, deployment, defaults, signing);
  }

  /** A new custodial account; returns its address. */
  async create(): Promise<string> {
    return this.import(Wallet.createRandom().privateKey);
  }

  /** Takes custody of an existing key (e.g. the operator's at bootstrap); returns its address. */
  async import(privateKey: string): Promise<string> {
    const wallet = new Wallet(privateKey);
    const address = wallet.address.toLowerCase();
    await this.#db.run(
      "INSERT INTO wallets (address, sealed_key, created_at) VALUES ($1, $2, $3) ON CONFLICT (address) DO NOTHING",
      [address, this.#master.seal("wallet", address, wallet.privateKey), Math.floor(Date.now() / 1000)],
    );
    return address;
  }

  /** True when the gateway keeps the key of `address`. */
  async holds(address: string): Promise<boolean> {
    return (
      (await this.#db.get("SELECT 1 AS one FROM wallets WHERE address = $1", [address.toLowerCase()])) !== undefined
    );
  }

  /** The signer of a custodial account, shared by every request that sends from it. */
  signer(address: string): Promise<ManagedSigner> {
    const key = address.toLowerCase();
    let signer = this.#signers.get(key);
    if (signer === undefined) {
      signer = this.#open(key);
      this.#signers.set(key, signer);
      signer.catch(() => this.#signers.delete(key));
    }
    return signer;
  }

  /** The market's contracts as `address` sends to them, bound once per account. */
  contractsOf(address: string): Promise<MarketContracts> {
    const key = address.toLowerCase();
    let contracts = this.#contracts.get(key);
    if (contracts === undefined) {
      contracts = this.signer(key).then((signer) => attach(this.#deployment, signer));
      this.#contracts.set(key, contracts);
      contracts.catch(() => this.#contracts.delete(key));
    }
    return contracts;
  }

  /** Tops `address` up from `funder` when gas costs something and its balance is low. */
  async fund(address: string, funder: string, allowance: GasAllowance): Promise<void> {
    if (allowance.minimumWei === 0n) return;
    const balance = await this.#provider.getBalance(address);
    if (balance >= allowance.minimumWei) return;
    const signer = await this.signer(funder);
    await (await signer.sendTransaction({ to: address, value: allowance.targetWei - balance })).wait();
  }

  async #open(address: string): Promise<ManagedSigner> {
    const row = await this.#db.get<{ sealed_key: string }>("SELECT sealed_key FROM wallets WHERE address = $1", [
      address,
    ]);
    if (row === undefined) throw new Error(`the gateway holds no key for ${address}`);
    const wallet = new Wallet(this.#master.open("wallet", address, row.sealed_key), this.#provider);
    return new ManagedSigner(wallet, this.#defaults, this.#signing?.signerOf(wallet.privateKey));
  }
}
