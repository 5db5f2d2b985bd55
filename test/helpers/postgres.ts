import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { freePort } from "../../scripts/lib/free-port.js";

const run = promisify(execFile);

/** Where Debian's PostgreSQL server programs are, if the `postgresql` package is installed. */
export function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb"))) return bin;
  }
  return undefined;
}

export interface TemporaryPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL server on loopback: its own cluster in a temporary directory, trust
 * authentication, stopped and deleted by `stop`. PostgreSQL refuses to run as root, so as root
 * it runs as the `postgres` account Debian's package creates.
 */
export async function startPostgres(bin: string): Promise<TemporaryPostgres> {
  const directory = await mkdtemp(join(tmpdir(), "metalmarket-pg-"));
  const asRoot = process.getuid?.() === 0;
  // runuser lives in /usr/sbin, which a non-login PATH (CI's) may leave out.
  const runuser = ["/usr/sbin/runuser", "/sbin/runuser"].find((path) => existsSync(path)) ?? "runuser";
  const exec = (program: string, args: string[]) =>
    asRoot ? run(runuser, ["-u", "postgres", "--", join(bin, program), ...args]) : run(join(bin, program), args);
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(directory, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(directory, "data");
  await exec("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  await exec("pg_ctl", [
    "-D",
    data,
    "-l",
    join(directory, "server.log"),
    "-o",
    `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off`,
    "-w",
    "start",
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await exec("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
