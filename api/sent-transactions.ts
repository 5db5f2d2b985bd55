import { AsyncLocalStorage } from "node:async_hooks";

/** Where the transactions a request sends are noted, as they are sent. */
type Recorder = (txHash: string) => Promise<void>;

const recorders = new AsyncLocalStorage<Recorder>();

/**
 * Runs `work` (a request's handler) so that every transaction it sends is noted through `record`
 * before its receipt is awaited: should the request fail after that, what reached the chain is
 * known, and a retry can be reconciled from the receipts instead of sending again.
 */
export function recordingSent<T>(record: Recorder, work: () => Promise<T>): Promise<T> {
  return recorders.run(record, work);
}

/** Notes a transaction just sent, for the request it is sent for (if any). */
export async function noteSent(txHash: string): Promise<void> {
  await recorders.getStore()?.(txHash);
}
