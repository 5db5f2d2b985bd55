import pg from "pg";

/**
 * How long the lock's session may send nothing before PostgreSQL ends it and frees the lock. The
 * holder asks something every second, so only a holder that stopped (a hung or frozen process, a
 * host cut off) goes quiet this long.
 */
const IDLE_SESSION_TIMEOUT_MS = 5000;
/**
 * A check not answered within this counts as the lock lost. Shorter than the idle timeout above, so
 * a holder cut off from the server gives up before the server frees the lock for another.
 */
const CHECK_TIMEOUT_MS = 2500;

/**
 * Why a session advisory lock and not a lease row with an expiry: the lock lives exactly as long as
 * the session that took it, so a holder that dies (SIGKILL, a crash) frees it the moment its
 * socket closes, and no clocks or renewals are involved. What the lock alone cannot tell is a
 * holder whose host vanished without closing its socket; the session settings below bound that:
 * TCP keepalives (and a TCP user timeout for unacknowledged data) end a session whose peer is gone
 * within about 5 s, and `idle_session_timeout` ends one whose holder stopped asking. Settings this
 * server does not know (an older release) are left out.
 */
const SESSION_SETTINGS: Record<string, string> = {
  idle_session_timeout: String(IDLE_SESSION_TIMEOUT_MS),
  tcp_keepalives_idle: "2",
  tcp_keepalives_interval: "1",
  tcp_keepalives_count: "3",
  tcp_user_timeout: String(IDLE_SESSION_TIMEOUT_MS),
};

/** The lock's connection ended while it was held: whoever held it holds it no more. */
export class LockLostError extends Error {
  constructor(cause: unknown) {
    super("the connection holding the leader lock ended", { cause });
    this.name = "LockLostError";
  }
}

/**
 * A PostgreSQL session advisory lock held on a connection of its own (not the pool's, whose
 * connections come and go). `claim` takes it if it is free, or checks that this holder still has
 * it; the moment the connection drops, `onLost`'s listener hears of it.
 */
export class AdvisoryLock {
  readonly #url: string;
  readonly #key: number;
  #client: pg.Client | undefined;
  #held = false;
  #lost: (error: LockLostError) => void = () => undefined;

  constructor(url: string, key: number) {
    this.#url = url;
    this.#key = key;
  }

  onLost(listener: (error: LockLostError) => void): void {
    this.#lost = listener;
  }

  /** Takes the lock, or checks it is still held; true while this holder has it. */
  async claim(): Promise<boolean> {
    try {
      const client = this.#client ?? (await this.#connect());
      if (this.#held) {
        await client.query("SELECT 1");
        return true;
      }
      const { rows } = await client.query<{ held: boolean }>("SELECT pg_try_advisory_lock($1) AS held", [this.#key]);
      this.#held = rows[0]?.held === true;
      return this.#held;
    } catch (error) {
      // A check that failed or went unanswered may leave the session alive and holding the lock:
      // closing it frees the lock now rather than when the server's timeouts notice.
      this.#drop(error);
      throw error;
    }
  }

  /** Frees the lock (if held) by closing its connection. */
  async release(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#held = false;
    await client?.end();
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#url,
      application_name: "metalmarket-leader-lock",
      query_timeout: CHECK_TIMEOUT_MS,
      connectionTimeoutMillis: CHECK_TIMEOUT_MS,
    });
    // Both events mean the session is gone, and with it the lock; an unheard 'error' would crash the process.
    client.on("error", (error) => this.#drop(error));
    client.on("end", () => this.#drop(new Error("the server closed the connection")));
    this.#client = client;
    await client.connect();
    await client.query(
      `SELECT set_config(s.name, w.value, false)
       FROM pg_settings s JOIN unnest($1::text[], $2::text[]) AS w (name, value) ON w.name = s.name`,
      [Object.keys(SESSION_SETTINGS), Object.values(SESSION_SETTINGS)],
    );
    return client;
  }

  /** Forgets a connection that failed; if it held the lock, says the lock is lost. */
  #drop(cause: unknown): void {
    const client = this.#client;
    if (client === undefined) return;
    this.#client = undefined;
    const held = this.#held;
    this.#held = false;
    client.end().catch(() => undefined);
    if (held) this.#lost(new LockLostError(cause));
  }
}
