import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";

import pg from "pg";

export type SqlValue = string | number | bigint | null;
export type Dialect = "sqlite" | "postgres";

/**
 * The one database interface the gateway and the indexer use. SQL is written once, in the subset
 * SQLite and PostgreSQL share, with `$1`-style parameters; `{{serial}}` in DDL becomes each
 * dialect's auto-increment key.
 */
export interface Db {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs several `;`-separated statements without parameters (DDL). */
  exec(sql: string): Promise<void>;
  /** Runs `work` in one transaction: all of it or none of it. */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Opens the database a URL names: `postgres://...` or `postgresql://...`, else a SQLite file path. */
export async function openDatabase(url: string): Promise<Db> {
  if (/^postgres(ql)?:\/\//.test(url)) return PostgresDb.connect(url);
  return new SqliteDb(url.replace(/^sqlite:/, ""));
}

const SERIAL = { sqlite: "INTEGER PRIMARY KEY", postgres: "BIGSERIAL PRIMARY KEY" } as const;

function ddl(sql: string, dialect: Dialect): string {
  return sql.replaceAll("{{serial}}", SERIAL[dialect]);
}

/** SQLite through `node:sqlite`: synchronous calls, so a transaction only has to keep others out. */
class SqliteDb implements Db {
  readonly dialect = "sqlite";
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, ReturnType<DatabaseSync["prepare"]>>();
  /** Settles when the open transaction (if any) ends. */
  #busy: Promise<void> = Promise.resolve();

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    await this.#busy;
    return this.#all<T>(sql, params);
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    await this.#busy;
    return this.#all<T>(sql, params)[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    await this.#busy;
    return this.#run(sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.#busy;
    this.#db.exec(ddl(sql, this.dialect));
  }

  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    // Wait for any transaction under way, then hold every other caller until this one ends.
    for (;;) {
      const busy = this.#busy;
      await busy;
      if (busy === this.#busy) break;
    }
    let done: () => void = () => undefined;
    this.#busy = new Promise<void>((resolve) => (done = resolve));
    const tx: Db = {
      dialect: this.dialect,
      all: async <R>(sql: string, params: readonly SqlValue[] = []) => this.#all<R>(sql, params),
      get: async <R>(sql: string, params: readonly SqlValue[] = []) => this.#all<R>(sql, params)[0],
      run: async (sql, params = []) => this.#run(sql, params),
      exec: async (sql) => this.#db.exec(ddl(sql, this.dialect)),
      transaction: (inner) => inner(tx),
      close: async () => undefined,
    };
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const result = await work(tx);
        this.#db.exec("COMMIT");
        return result;
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
    } finally {
      done();
    }
  }

  async close(): Promise<void> {
    await this.#busy;
    this.#db.close();
  }

  #prepare(sql: string) {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql.replace(/\$(\d+)/g, "?$1"));
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #all<T>(sql: string, params: readonly SqlValue[]): T[] {
    return this.#prepare(sql).all(...(params as SQLInputValue[])) as T[];
  }

  #run(sql: string, params: readonly SqlValue[]): number {
    return Number(this.#prepare(sql).run(...(params as SQLInputValue[])).changes);
  }
}

// BIGINT columns hold block numbers, ids and unix times, all far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

/** PostgreSQL through a `pg` pool; a transaction runs on one pooled connection. */
class PostgresDb implements Db {
  readonly dialect = "postgres";
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  static async connect(url: string): Promise<PostgresDb> {
    const pool = new pg.Pool({ connectionString: url, max: 16 });
    // A failed idle connection must not crash the process; the next query reconnects.
    pool.on("error", () => undefined);
    const client = await pool.connect();
    client.release();
    return new PostgresDb(pool);
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.#pool.query(sql, params.map(toPg))).rows as T[];
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.#pool.query(sql, params.map(toPg))).rowCount ?? 0;
  }

  async exec(sql: string): Promise<void> {
    await this.#pool.query(ddl(sql, this.dialect));
  }

  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    const tx: Db = {
      dialect: this.dialect,
      all: async <R>(sql: string, params: readonly SqlValue[] = []) =>
        (await client.query(sql, params.map(toPg))).rows as R[],
      get: async <R>(sql: string, params: readonly SqlValue[] = []) =>
        (await client.query(sql, params.map(toPg))).rows[0] as R | undefined,
      run: async (sql, params = []) => (await client.query(sql, params.map(toPg))).rowCount ?? 0,
      exec: async (sql) => void (await client.query(ddl(sql, this.dialect))),
      transaction: (inner) => inner(tx),
      close: async () => undefined,
    };
    try {
      await client.query("BEGIN");
      const result = await work(tx);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

function toPg(value: SqlValue): string | number | null {
  return typeof value === "bigint" ? value.toString() : value;
}
