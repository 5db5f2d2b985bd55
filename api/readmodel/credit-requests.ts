import type { Db } from "../db/database.js";

export interface CreditRequestRow {
  request_id: number;
  requester: string;
  amount: string;
  reason: string;
  status: number;
  decided_by: string | null;
  decision_reason: string | null;
  created_at: number;
  decided_at: number | null;
}

export function findCreditRequest(db: Db, requestId: number): Promise<CreditRequestRow | undefined> {
  return db.get<CreditRequestRow>("SELECT * FROM credit_requests WHERE request_id = $1", [requestId]);
}

export function listCreditRequests(db: Db): Promise<CreditRequestRow[]> {
  return db.all<CreditRequestRow>("SELECT * FROM credit_requests ORDER BY request_id");
}
