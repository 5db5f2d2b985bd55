import type { Deployment } from "../../sdk/index.js";
import type { AuditRecord } from "../records.js";
import type { StoredEvent } from "./projection.js";

/** An event with where it sits on the chain (as the indexer's `IndexedEvent`). */
interface LocatedEvent extends StoredEvent {
  transactionHash: string;
  logIndex: number;
  blockHash: string;
}

/**
 * An event as the audit trail shows it (`GET /audit/events`). The read model keeps each event's
 * record as JSON text, worked out once as the event is indexed: a page of the audit trail is then
 * its rows' text joined, neither parsed nor serialised again.
 */
export function auditRecordOf(event: LocatedEvent, deployment: Deployment): AuditRecord {
  return {
    id: event.id,
    blockNumber: event.blockNumber,
    blockHash: event.blockHash,
    logIndex: event.logIndex,
    txHash: event.transactionHash,
    timestamp: new Date(event.timestamp * 1000).toISOString(),
    contract: event.contract,
    address: deployment.contracts[event.contract as keyof Deployment["contracts"]],
    event: event.name,
    args: event.args,
  };
}
