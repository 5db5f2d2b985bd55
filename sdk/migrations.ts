import { Umzug } from "umzug";

/**
 * What a versioned schema is migrated through: the gateway's `Db` (SQLite or PostgreSQL) and the
 * agent's store both fit. Node only (not exported from the SDK's index, which the portal uses).
 */
export interface MigrationTarget {
  readonly dialect: "sqlite" | "postgres";
  all<T>(sql: string, params?: readonly (string | number | bigint | null)[]): Promise<T[]>;
  run(sql: string, params?: readonly (string | number | bigint | null)[]): Promise<number>;
  exec(sql: string): Promise<void>;
  transaction<T>(work: (tx: this) => Promise<T>): Promise<T>;
}

/** One step of a schema's history. Released steps never change: a change is a new step. */
export interface Migration<D extends MigrationTarget> {
  /** Ordered by name: `0001-baseline`, `0002-...`. */
  name: string;
  up(db: D): Promise<void>;
}

/** A database some newer release migrated: this release must not write to it. */
export class NewerSchemaError extends Error {
  constructor(unknown: string[]) {
    super(
      `the database was migrated by a newer release (${unknown.join(", ")} unknown here): ` +
        "run that release, or a newer one, against it",
    );
    this.name = "NewerSchemaError";
  }
}

const TABLE = "schema_migrations";
/** PostgreSQL advisory lock key taken while migrating, so replicas starting together take turns. */
const MIGRATION_LOCK = 0x6d6d6967; // "mmig"

/**
 * Brings `db` to the newest step of `migrations` with Umzug, each step in one transaction with its
 * record, so a crash leaves a step either done and recorded or not at all. Several processes may
 * start together: on PostgreSQL they take turns on an advisory lock and skip what another did.
 * Returns the names of the steps applied now.
 */
export async function migrate<D extends MigrationTarget>(
  db: D,
  migrations: readonly Migration<D>[],
): Promise<string[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`);
  const applied = async (on: MigrationTarget) =>
    (await on.all<{ name: string }>(`SELECT name FROM ${TABLE} ORDER BY name`)).map((row) => row.name);
  const known = new Set(migrations.map((m) => m.name));
  const unknown = (await applied(db)).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new NewerSchemaError(unknown);

  const ran: string[] = [];
  const umzug = new Umzug({
    migrations: migrations.map((step) => ({
      name: step.name,
      up: () =>
        db.transaction(async (tx) => {
          if (tx.dialect === "postgres") await tx.all("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
          if ((await applied(tx)).includes(step.name)) return;
          await step.up(tx);
          await tx.run(`INSERT INTO ${TABLE} (name, applied_at) VALUES ($1, $2)`, [
            step.name,
            Math.floor(Date.now() / 1000),
          ]);
          ran.push(step.name);
        }),
    })),
    storage: {
      executed: () => applied(db),
      // Recorded by the step's own transaction (above), so a step and its record are one change.
      logMigration: async () => undefined,
      unlogMigration: async ({ name }) => void (await db.run(`DELETE FROM ${TABLE} WHERE name = $1`, [name])),
    },
    logger: undefined,
  });
  await umzug.up();
  // Not Umzug's list: a step another replica ran while this one waited for the lock ran elsewhere.
  return ran;
}
