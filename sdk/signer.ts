import {
  AbstractSigner,
  BaseWallet,
  JsonRpcApiProvider,
  Transaction,
  TransactionResponse,
  isError,
  type Provider,
  keccak256,
  type SignatureLike,
  type Signer,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { withGasHeadroom } from "./gas.js";

/** Fields merged into every transaction, e.g. `{ type: 0, gasPrice: 0n }` on a Quorum chain. */
export type TransactionDefaults = Pick<
  TransactionRequest,
  "type" | "gasPrice" | "maxFeePerGas" | "maxPriorityFeePerGas"
>;

const NONCE_RETRIES = 3;
/** Chain facts are read at most this often per provider: fee data costs three calls, and both move slowly. */
const CHAIN_FACTS_TTL_MS = 1000;

/** `read(provider)`, shared by every signer of `provider` for a second. */
function cachedPer<T>(read: (provider: Provider) => Promise<T>): (provider: Provider) => Promise<T> {
  const cache = new WeakMap<Provider, { at: number; value: Promise<T> }>();
  return (provider) => {
    const cached = cache.get(provider);
    if (cached !== undefined && performance.now() - cached.at < CHAIN_FACTS_TTL_MS) return cached.value;
    const value = read(provider);
    cache.set(provider, { at: performance.now(), value });
    value.catch(() => cache.delete(provider));
    return value;
  };
}

const feeDataOf = cachedPer((provider) => provider.getFeeData());
const blockGasLimitOf = cachedPer(async (provider) => (await provider.getBlock("latest"))?.gasLimit);

/**
 * A signer that hands out nonces itself, one sender at a time, so that many concurrent sends
 * from one account neither collide nor leave gaps. On a nonce conflict (another process used the
 * account) it reloads the nonce from the chain and tries again.
 */
export class ManagedSigner extends AbstractSigner {
  readonly #signer: Signer;
  readonly #defaults: TransactionDefaults;
  readonly #signDigest: ((digest: string) => Promise<SignatureLike>) | undefined;
  #nextNonce: number | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * `signDigest`, for a local wallet: signs its transactions' digests elsewhere than on this
   * thread (the gateway signs on a thread of its own); without it the wallet signs in-line.
   */
  constructor(
    signer: Signer,
    defaults: TransactionDefaults = {},
    signDigest?: (digest: string) => Promise<SignatureLike>,
  ) {
    super(signer.provider);
    this.#signer = signer;
    this.#defaults = defaults;
    this.#signDigest = signDigest;
  }

  override getAddress(): Promise<string> {
    return this.#signer.getAddress();
  }

  override connect(provider: Provider | null): ManagedSigner {
    return new ManagedSigner(this.#signer.connect(provider), this.#defaults, this.#signDigest);
  }

  override signTransaction(tx: TransactionRequest): Promise<string> {
    return this.#signer.signTransaction(tx);
  }

  override signMessage(message: string | Uint8Array): Promise<string> {
    return this.#signer.signMessage(message);
  }

  override signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    return this.#signer.signTypedData(domain, types, value);
  }

  /** Forgets the cached nonce; the next send reads it from the chain. */
  resetNonce(): void {
    this.#nextNonce = undefined;
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    // Gas and fees need no nonce: they are worked out before taking the lock, so concurrent sends
    // do that in parallel. A call that would revert fails here, its nonce untouched.
    const request = { ...this.#defaults, ...tx };
    const [gasLimit, fees] = await Promise.all([
      request.gasLimit ?? this.#gasLimitFor(request),
      this.#feesFor(request),
    ]);
    for (let attempt = 1; ; attempt += 1) {
      // Nonces are handed out and transactions signed and put on the wire one at a time, in nonce
      // order; the node's answer is awaited outside the lock, so one sender's transactions travel
      // together instead of one round trip after another.
      try {
        const sending = await this.#exclusive(async () => {
          const nonce = this.#nextNonce ?? (await this.#signer.getNonce("pending"));
          this.#nextNonce = nonce + 1;
          return this.#dispatch({ ...request, ...fees, gasLimit, nonce });
        });
        return await sending.response;
      } catch (error) {
        // Whatever failed, the chain knows best which nonce comes next.
        this.#nextNonce = undefined;
        if (attempt < NONCE_RETRIES && isNonceConflict(error)) continue;
        throw error;
      }
    }
  }

  /**
   * Signs and starts sending. A local wallet's transaction goes out raw, and its response is built
   * from what was signed: ethers' own path recovers the sender from the signature once more, which
   * was the costliest step of a send. Other signers (a node's accounts) send as usual, answered
   * before the next nonce is handed out.
   */
  async #dispatch(request: TransactionRequest): Promise<{ response: Promise<TransactionResponse> }> {
    const provider = this.#signer.provider;
    if (!(this.#signer instanceof BaseWallet) || !(provider instanceof JsonRpcApiProvider)) {
      const response = await this.#signer.sendTransaction(request);
      return { response: Promise.resolve(response) };
    }
    // Signed here rather than by `signTransaction`, so the signed transaction need not be parsed
    // again to answer its response.
    const tx = Transaction.from({ ...(await this.#signer.populateTransaction(request)), from: undefined });
    tx.signature =
      this.#signDigest === undefined
        ? this.#signer.signingKey.sign(tx.unsignedHash)
        : await this.#signDigest(tx.unsignedHash);
    const from = this.#signer.address;
    // Serialised once: the transaction's hash is that of these bytes.
    const serialized = tx.serialized;
    const expected = keccak256(serialized);
    const sent = provider.send("eth_sendRawTransaction", [serialized]) as Promise<string>;
    return { response: sent.then((hash) => responseOf(provider, from, tx, hash, expected)) };
  }

  /** An estimate with headroom: never a bare estimate (see `withGasHeadroom`). */
  async #gasLimitFor(request: TransactionRequest): Promise<bigint> {
    const provider = this.#signer.provider;
    const [estimate, blockGasLimit] = await Promise.all([
      this.#signer.estimateGas(request),
      provider === null ? undefined : blockGasLimitOf(provider),
    ]);
    return withGasHeadroom(estimate, blockGasLimit);
  }

  /** The fee fields a request lacks, from the chain's current fee data. */
  async #feesFor(request: TransactionRequest): Promise<TransactionDefaults> {
    if ((request.gasPrice ?? request.maxFeePerGas ?? undefined) !== undefined) return {};
    const provider = this.#signer.provider;
    if (provider === null) return {};
    const { gasPrice, maxFeePerGas, maxPriorityFeePerGas } = await feeDataOf(provider);
    if (request.type !== 0 && maxFeePerGas !== null && maxPriorityFeePerGas !== null) {
      return { type: 2, maxFeePerGas, maxPriorityFeePerGas };
    }
    return gasPrice === null ? {} : { type: 0, gasPrice };
  }

  /** Runs `task` after every task queued before it, whether they succeeded or not. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/** True when a send failed because its nonce was taken or skipped ahead. */
export function isNonceConflict(error: unknown): boolean {
  if (isError(error, "NONCE_EXPIRED") || isError(error, "REPLACEMENT_UNDERPRICED")) return true;
  const message = error instanceof Error ? error.message.toLowerCase() : "";
  return (
    message.includes("nonce too low") ||
    message.includes("nonce has already been used") ||
    message.includes("nonce too high")
  );
}

/** The response to a transaction this process signed and the node took, built from what was signed. */
function responseOf(
  provider: JsonRpcApiProvider,
  from: string,
  tx: Transaction,
  hash: string,
  expected: string,
): TransactionResponse {
  if (hash !== expected) throw new Error(`the node answered hash ${hash} for transaction ${expected}`);
  const signature = tx.signature;
  if (signature === null) throw new Error("the signed transaction has no signature");
  return new TransactionResponse(
    {
      blockNumber: null,
      blockHash: null,
      hash,
      index: 0,
      type: tx.type ?? 0,
      to: tx.to,
      from,
      nonce: tx.nonce,
      gasLimit: tx.gasLimit,
      gasPrice: tx.gasPrice ?? tx.maxFeePerGas ?? 0n,
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
      maxFeePerGas: tx.maxFeePerGas,
      data: tx.data,
      value: tx.value,
      chainId: tx.chainId,
      signature,
      accessList: tx.accessList,
      authorizationList: null,
    },
    provider,
  );
}
