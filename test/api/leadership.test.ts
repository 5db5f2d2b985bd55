import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase, type Db } from "../../api/db/database.js";
import { Leadership } from "../../api/leadership.js";
import { silentLogger } from "../../sdk/log.js";
import { postgresBin, startPostgres, type TemporaryPostgres } from "../helpers/postgres.js";
import { waitFor } from "../helpers/wait.js";

/** A replica's leadership with a leader job and a follower job that note when they run. */
function replica(db: Db, url: string, name: string, log: string[]) {
  const leadership = Leadership.of(db, url, silentLogger);
  let leading = false;
  leadership.leaderOnly({
    name: "work",
    start: () => {
      leading = true;
      log.push(`${name} leads`);
    },
    // Work under way takes a while to finish: the replica's follower job must wait for it.
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      leading = false;
      log.push(`${name} stopped leading`);
    },
  });
  leadership.followerOnly({
    name: "follow",
    start: () => log.push(`${name} follows`),
    stop: async () => void log.push(`${name} stopped following`),
  });
  return { leadership, leads: () => leading };
}

describe("leadership", () => {
  it("is always this process's on SQLite", async () => {
    const db = await openDatabase(":memory:");
    const log: string[] = [];
    const only = replica(db, ":memory:", "only", log);
    await only.leadership.start();
    expect(only.leadership.isLeader()).toBe(true);
    // A job registered later (a keeper) joins the role under way.
    only.leadership.leaderOnly({
      name: "keeper",
      start: () => log.push("keeper runs"),
      stop: async () => void log.push("keeper stopped"),
    });
    await waitFor("the late job to start", () => log.includes("keeper runs"), 1000);
    await only.leadership.stop();
    expect(log).toEqual(["only leads", "keeper runs", "keeper stopped", "only stopped leading"]);
    await db.close();
  });

  const bin = postgresBin();
  describe.skipIf(bin === undefined && process.env.CI === undefined)("on PostgreSQL", () => {
    let postgres: TemporaryPostgres;
    let db: Db;

    beforeAll(async () => {
      if (bin === undefined) throw new Error("PostgreSQL is not installed (Debian package postgresql)");
      postgres = await startPostgres(bin);
      db = await openDatabase(postgres.url);
    });
    afterAll(async () => {
      await db?.close();
      await postgres?.stop();
    });

    it("has exactly one leader; when its connection is cut, the other takes over within seconds", async () => {
      const log: string[] = [];
      const a = replica(db, postgres.url, "a", log);
      const b = replica(db, postgres.url, "b", log);
      await a.leadership.start();
      await b.leadership.start();
      expect([a.leadership.isLeader(), b.leadership.isLeader()]).toEqual([true, false]);
      expect(log).toEqual(["a leads", "b follows"]);

      const holders = () => db.all<{ pid: number }>("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted");
      const [holder] = await holders();
      expect(await holders()).toHaveLength(1);
      const cutAt = Date.now();
      await db.run("SELECT pg_terminate_backend($1)", [holder?.pid ?? 0]);

      // The leader hears of it at once, and its work stops before it takes up the follower's.
      await waitFor("the old leader to step down", () => !a.leadership.isLeader(), 1000);
      await waitFor("the other replica to lead", () => b.leads(), 5000);
      expect(Date.now() - cutAt).toBeLessThan(3000);
      await waitFor("the old leader to follow", () => log.includes("a follows"), 5000);
      expect(log.indexOf("a stopped leading")).toBeLessThan(log.indexOf("a follows"));
      expect(a.leads()).toBe(false);
      expect(await holders()).toHaveLength(1);

      // A leader that stops lets go as soon as its work has stopped.
      await b.leadership.stop();
      await waitFor("the first replica to lead again", () => a.leads(), 5000);
      await a.leadership.stop();
      expect(await holders()).toHaveLength(0);
    });
  });
});
