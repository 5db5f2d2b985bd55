import type { Provider, TransactionReceipt } from "ethers";
import { z } from "zod";

import { createEventDecoder, type Deployment } from "../../sdk/index.js";
import { JsonText, STREAMED } from "../http/route.js";
import { address, instant } from "../http/schemas.js";
import type { User } from "../identity/users.js";
import { argsToJson } from "../indexer/projection.js";
import { auditPage, type AuditRow } from "../readmodel/events.js";
import { route } from "./define.js";

const EXPORT_PAGE = 1000;
const VERIFY_CONCURRENCY = 8;

export const auditRecordSchema = z.object({
  id: z.number().describe("the event's place on the chain: block number × 100000 + log index; the cursor"),
  blockNumber: z.number(),
  blockHash: z.string(),
  logIndex: z.number(),
  txHash: z.string(),
  timestamp: z.string(),
  contract: z.string(),
  address: z.string(),
  event: z.string(),
  args: z.record(z.string(), z.unknown()),
  verified: z.boolean().optional().describe("with verify=true: the chain holds exactly this log"),
  verifyError: z.string().optional(),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;

const auditQuery = z
  .object({
    account: address.optional(),
    tenant: z.coerce.number().int().positive().optional(),
    node: z.coerce.number().int().positive().optional(),
    lease: z.coerce.number().int().positive().optional(),
    offer: z.coerce.number().int().positive().optional(),
    round: z.coerce.number().int().positive().optional(),
    type: z
      .string()
      .regex(/^[A-Za-z]+(,[A-Za-z]+)*$/, "event names, comma-separated")
      .optional()
      .describe("event names, e.g. LeaseCreated,LeaseEnded"),
    fromBlock: z.coerce.number().int().min(0).optional(),
    toBlock: z.coerce.number().int().min(0).optional(),
    from: instant.optional().describe("ISO 8601 or unix seconds"),
    to: instant.optional().describe("ISO 8601 or unix seconds"),
    after: z.coerce.number().int().min(0).optional().describe("the last id of the previous page"),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    verify: z.enum(["true", "false"]).default("false"),
    format: z.enum(["json", "ndjson", "csv"]).default("json"),
  })
  .strict();
export type AuditQuery = z.infer<typeof auditQuery>;

/**
 * The filters a caller may use: staff any; a tenant admin their tenant's; others their own
 * account's within their tenant. Visibility follows tenant membership, never an address alone: an
 * account's events outside the caller's tenant (before it joined, or elsewhere) are not theirs.
 */
function scoped(query: AuditQuery, caller: User): AuditQuery {
  if (caller.roles.includes("admin") || caller.roles.includes("auditor")) return query;
  if (caller.tenantId === null) return { ...query, account: caller.address, tenant: NO_TENANT };
  if (caller.roles.includes("tenantAdmin")) return { ...query, tenant: caller.tenantId };
  return { ...query, account: caller.address, tenant: caller.tenantId };
}

/** A tenant id no tenant has: matches nothing. */
const NO_TENANT = 0;

/**
 * Checks records against the chain: the transaction's receipt must hold a log at the same index,
 * in the same block, from the same contract, decoding to the same event and arguments.
 */
export async function verifyRecords(
  provider: Provider,
  deployment: Deployment,
  records: AuditRecord[],
): Promise<AuditRecord[]> {
  const decode = createEventDecoder(deployment);
  const receipts = new Map<string, Promise<TransactionReceipt | null>>();
  const receiptOf = (hash: string) => {
    let receipt = receipts.get(hash);
    if (receipt === undefined) {
      receipt = provider.getTransactionReceipt(hash);
      receipts.set(hash, receipt);
    }
    return receipt;
  };
  const verified: AuditRecord[] = new Array<AuditRecord>(records.length);
  let next = 0;
  const worker = async () => {
    while (next < records.length) {
      const index = next++;
      const record = records[index] as AuditRecord;
      verified[index] = { ...record, ...(await verifyOne(record)) };
    }
  };
  async function verifyOne(record: AuditRecord): Promise<{ verified: boolean; verifyError?: string }> {
    const receipt = await receiptOf(record.txHash);
    if (receipt === null) return { verified: false, verifyError: "no such transaction on the chain" };
    if (receipt.blockHash !== record.blockHash)
      return { verified: false, verifyError: "the transaction is in another block" };
    const log = receipt.logs.find((l) => l.index === record.logIndex);
    if (log === undefined) return { verified: false, verifyError: "no log at this index" };
    if (log.address.toLowerCase() !== record.address.toLowerCase()) {
      return { verified: false, verifyError: "the log comes from another contract" };
    }
    const decoded = decode(log);
    if (decoded?.name !== record.event || argsToJson(decoded.args) !== JSON.stringify(record.args)) {
      return { verified: false, verifyError: "the log's event or arguments differ" };
    }
    return { verified: true };
  }
  await Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, records.length) }, worker));
  return verified;
}

const CSV_COLUMNS = ["id", "blockNumber", "logIndex", "txHash", "timestamp", "contract", "event", "args", "verified"];

function csvLine(record: AuditRecord): string {
  const cells = [
    record.id,
    record.blockNumber,
    record.logIndex,
    record.txHash,
    record.timestamp,
    record.contract,
    record.event,
    JSON.stringify(record.args),
    record.verified ?? "",
  ];
  return cells.map((cell) => `"${String(cell).replaceAll('"', '""')}"`).join(",");
}

export const auditRoutes = [
  route({
    method: "get",
    path: "/audit/events",
    tag: "audit",
    summary: "The on-chain record: every market event, filtered, paginated, verifiable, exportable",
    description:
      "Each record carries its tx hash, block number and hash, and log index. `verify=true` checks each record " +
      "against the chain. `format=ndjson` or `csv` (or an Accept header) exports every matching record as a " +
      "stream. Staff see everything; tenant admins their tenant's events; others their own account's.",
    access: "user",
    query: auditQuery,
    alsoProduces: ["application/x-ndjson", "text/csv"],
    response: z.object({ events: z.array(auditRecordSchema), next: z.number().nullable() }),
    async handler({ query: raw, caller, services, req, res }) {
      const query = scoped(raw, caller);
      const accept = req.headers.accept ?? "";
      const format =
        raw.format !== "json"
          ? raw.format
          : accept.includes("application/x-ndjson")
            ? "ndjson"
            : accept.includes("text/csv")
              ? "csv"
              : "json";
      const verify = query.verify === "true";
      // Records are kept as JSON text: parsed only to be verified or put in CSV cells.
      const present = (rows: AuditRow[]) => {
        const records = rows.map((row) => JSON.parse(row.record) as AuditRecord);
        return verify ? verifyRecords(services.provider, services.deployment, records) : records;
      };
      if (format === "json") {
        const page = async () => {
          const rows = await auditPage(services.db, query, query.limit);
          const next = rows.length === query.limit ? (rows.at(-1)?.id ?? null) : null;
          if (verify) return JSON.stringify({ events: await present(rows), next });
          return `{"events":[${rows.map((row) => row.record).join(",")}],"next":${JSON.stringify(next)}}`;
        };
        // A verified page is the chain's word now, so it is never kept; any other is the read model's.
        if (verify) return new JsonText(await page());
        return new JsonText(await services.answers.audit.get(JSON.stringify(query), page));
      }
      res.status(200).type(format === "csv" ? "text/csv" : "application/x-ndjson");
      res.set("Content-Disposition", `attachment; filename="audit.${format === "csv" ? "csv" : "ndjson"}"`);
      if (format === "csv") res.write(`${CSV_COLUMNS.join(",")}\n`);
      let after = query.after;
      for (;;) {
        const page = await auditPage(services.db, { ...query, after }, EXPORT_PAGE);
        const lines =
          format === "ndjson" && !verify
            ? page.map((row) => row.record)
            : (await present(page)).map((r) => (format === "csv" ? csvLine(r) : JSON.stringify(r)));
        const text = lines.join("\n");
        if (text !== "" && !res.write(`${text}\n`)) await new Promise((resolve) => res.once("drain", resolve));
        if (page.length < EXPORT_PAGE) break;
        after = page.at(-1)?.id;
      }
      res.end();
      return STREAMED;
    },
  }),
];
