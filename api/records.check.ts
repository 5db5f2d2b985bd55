/**
 * Compile-time proof that `records.ts` (the clients' plain types) is exactly what the routes'
 * schemas answer: a field added, removed or retyped on either side fails `tsc`.
 */
import type { z } from "zod";

import type { leaseSchema, usageSchema } from "./readmodel/leases.js";
import type { resourcesSchema } from "./readmodel/offers.js";
import type * as records from "./records.js";
import type { auditRecordSchema } from "./routes/audit.js";
import type { sealedBidSchema } from "./routes/bids.js";
import type { requestSchema } from "./routes/credits.js";
import type { statsSchema } from "./routes/market.js";
import type { nodeSchema } from "./routes/nodes.js";
import type { offerSchema } from "./routes/offers.js";
import type { balanceSchema, tenantSchema } from "./routes/tenants.js";
import type { sliceSchema } from "./routes/timeslots.js";
import type { userSchema } from "./http/schemas.js";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Answer<S extends z.ZodTypeAny> = z.output<S>;

export const recordsMatchSchemas: [
  Same<Answer<typeof resourcesSchema>, records.Resources>,
  Same<Answer<typeof tenantSchema>, records.Tenant>,
  Same<Answer<typeof userSchema>, records.User>,
  Same<Answer<typeof balanceSchema>, records.Balance>,
  Same<Answer<typeof requestSchema>, records.CreditRequest>,
  Same<Answer<typeof nodeSchema>, records.Node>,
  Same<Answer<typeof offerSchema>, records.Offer>,
  Same<Answer<typeof sliceSchema>, records.Slice>,
  Same<Answer<typeof leaseSchema>, records.Lease>,
  Same<Answer<typeof usageSchema>, records.Usage>,
  Same<Answer<typeof sealedBidSchema>, records.Bid>,
  Same<Answer<typeof statsSchema>, records.PriceStats>,
  Same<Answer<typeof auditRecordSchema>, records.AuditRecord>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true];
