import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase, type Db } from "../../api/db/database.js";
import { GATEWAY_MIGRATIONS, openGatewayDatabase } from "../../api/db/migrations.js";
import { IdempotencyKeys, type TransactionOutcome } from "../../api/http/idempotency.js";
import { MasterKey } from "../../api/identity/secrets.js";
import { READ_MODEL_SCHEMA } from "../../api/indexer/schema.js";
import { Users } from "../../api/identity/users.js";
import { NewerSchemaError, migrate } from "../../sdk/migrations.js";
import { postgresBin, startPostgres } from "../helpers/postgres.js";

/** A database as the release before versioned migrations left it: its tables, a user, a stored answer. */
async function previousRelease(url: string): Promise<void> {
  const db = await openDatabase(url);
  const [baseline] = GATEWAY_MIGRATIONS;
  if (baseline === undefined) throw new Error("no baseline");
  await baseline.up(db);
  await db.run(
    `INSERT INTO users (user_id, tenant_id, name, email, roles, address, custodial, created_at)
     VALUES ('u-1', 3, 'Old Timer', 'old@render.test', 'buyer', '0x00000000000000000000000000000000000000b0', 1, 1)`,
  );
  await db.run(
    `INSERT INTO idempotency (owner, idem_key, fingerprint, status, response, created_at)
     VALUES ('u-1', 'k-1', 'abc', 201, '{"apiKey":"mm_cleartext_secret"}', ${Math.floor(Date.now() / 1000)})`,
  );
  // The read model as the indexer of that release made it: events with their arguments only.
  await db.exec(`CREATE TABLE events (
    id BIGINT PRIMARY KEY, block_number BIGINT NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL,
    block_hash TEXT NOT NULL, timestamp BIGINT NOT NULL, contract TEXT NOT NULL, name TEXT NOT NULL,
    args TEXT NOT NULL, UNIQUE (block_number, log_index))`);
  await db.run(
    "INSERT INTO events (id, block_number, log_index, tx_hash, block_hash, timestamp, contract, name, args) " +
      "VALUES (100000, 1, 0, '0x', '0x', 1, 'market', 'TenantCreated', '{}')",
  );
  await db.close();
}

async function upgradesThePreviousRelease(url: string): Promise<void> {
  await previousRelease(url);
  const db = await openGatewayDatabase(url);
  try {
    const users = await Users.open(db);
    expect(await users.byEmail("old@render.test")).toMatchObject({ userId: "u-1", tenantId: 3, roles: ["buyer"] });
    // What the old release kept in clear is gone; the new column is there.
    expect(await db.all("SELECT * FROM idempotency")).toEqual([]);
    await db.run(
      "INSERT INTO idempotency (owner, idem_key, fingerprint, created_at, tx_hashes) VALUES ('a','b','c',1,'[]')",
    );
    // The old read model is gone, to be built again by the indexer in this release's shape.
    await db.exec(READ_MODEL_SCHEMA);
    expect(await db.all("SELECT * FROM events")).toEqual([]);
    await db.run(
      "INSERT INTO events (id, block_number, log_index, tx_hash, block_hash, timestamp, contract, name, record) " +
        "VALUES (100000, 1, 0, '0x', '0x', 1, 'market', 'TenantCreated', '{}')",
    );
    const applied = await db.all<{ name: string }>("SELECT name FROM schema_migrations ORDER BY name");
    expect(applied.map((row) => row.name)).toEqual(GATEWAY_MIGRATIONS.map((m) => m.name));
    // Migrating again changes nothing.
    expect(await migrate(db, GATEWAY_MIGRATIONS)).toEqual([]);
  } finally {
    await db.close();
  }
}

describe("the gateway's versioned schema", () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "metalmarket-migrations-"));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it("upgrades a SQLite database made by the previous release, keeping its users", async () => {
    await upgradesThePreviousRelease(join(directory, "gateway.sqlite"));
  });

  it("refuses a database a newer release migrated", async () => {
    const url = join(directory, "newer.sqlite");
    const db = await openGatewayDatabase(url);
    await db.run("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999-from-the-future', 1)");
    await db.close();
    await expect(openGatewayDatabase(url)).rejects.toThrow(NewerSchemaError);
  });

  const bin = postgresBin();
  it.skipIf(bin === undefined && process.env.CI === undefined)(
    "upgrades a PostgreSQL database made by the previous release, also with replicas starting together",
    async () => {
      if (bin === undefined) throw new Error("PostgreSQL is not installed (Debian package postgresql)");
      const postgres = await startPostgres(bin);
      try {
        await upgradesThePreviousRelease(postgres.url);
        const replicas = await Promise.all([1, 2, 3].map(() => openDatabase(postgres.url)));
        const ran = await Promise.all(
          replicas.map((db) =>
            migrate(db, [
              ...GATEWAY_MIGRATIONS,
              { name: "0003-copy", up: (tx) => tx.exec("CREATE TABLE idempotency_copy AS SELECT * FROM idempotency") },
            ]),
          ),
        );
        // Exactly one replica ran the new step; CREATE TABLE twice would have failed the others.
        expect(ran.flat()).toEqual(["0003-copy"]);
        await Promise.all(replicas.map((db) => db.close()));
      } finally {
        await postgres.stop();
      }
    },
  );
});

describe("idempotency keys", () => {
  let db: Db;
  let outcome: TransactionOutcome;
  let keys: IdempotencyKeys;

  beforeAll(async () => {
    db = await openGatewayDatabase(":memory:");
    keys = new IdempotencyKeys(db, new MasterKey(randomBytes(32)), () => Promise.resolve(outcome));
  });
  afterAll(() => db.close());

  it("keeps no answer or request in clear", async () => {
    const request = { path: "/auth/login", body: { email: "bea@render.test", password: "bea-password" } };
    expect(await keys.claim("ip:1", "login-1", request)).toBeUndefined();
    await keys.settle("ip:1", "login-1", { status: 200, body: '{"token":"session-secret"}' });
    const stored = JSON.stringify(await db.all("SELECT * FROM idempotency"));
    expect(stored).not.toContain("session-secret");
    expect(stored).not.toContain("bea-password");
    expect(await keys.claim("ip:1", "login-1", request)).toEqual({ status: 200, body: '{"token":"session-secret"}' });
  });

  it("reconciles a retry of a request that failed after sending, from the chain", async () => {
    const request = { path: "/timeslots/1-3600/request", body: { duration: 60 } };
    for (const [key, chain] of [
      ["mined", "mined"],
      ["reverted", "reverted"],
      ["pending", "unknown"],
      ["nothing-sent", "mined"],
    ] as const) {
      expect(await keys.claim("u-1", key, request)).toBeUndefined();
      if (key !== "nothing-sent") await keys.recordTransaction("u-1", key, `0x${key}`);
      await keys.settle("u-1", key, { status: 500, body: "{}" });
      outcome = chain;
      const retry = keys.claim("u-1", key, request);
      if (key === "mined") await expect(retry).rejects.toMatchObject({ status: 409, slug: "request-already-applied" });
      if (key === "pending") await expect(retry).rejects.toMatchObject({ status: 409, slug: "request-in-progress" });
      // Nothing holds on-chain: the retry runs.
      if (key === "reverted" || key === "nothing-sent") expect(await retry).toBeUndefined();
    }
  });
});
