import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { readGatewaySettings } from "../../api/config.js";
import { readStackSettings } from "../../scripts/stack/settings.js";

describe("settings files", () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "metalmarket-settings-"));
    await mkdir(join(directory, "etc"));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it("resolve every path the gateway's names against the file's folder, whatever the working directory", async () => {
    const file = join(directory, "etc", "gateway.json");
    await writeFile(
      file,
      JSON.stringify({
        rpcUrl: "http://127.0.0.1:8545",
        database: "postgres://market@db.internal/market",
        deploymentsDir: "deployments",
        masterSecretFile: "secrets/master.key",
        operatorKey: { keystore: "secrets/operator.json", passwordFile: "secrets/operator.password" },
        bootstrapAdmin: { email: "ops@example.test", apiKeyFile: "secrets/admin.key" },
      }),
    );
    const settings = await readGatewaySettings(file);
    const at = (path: string) => join(directory, "etc", path);
    expect(settings).toMatchObject({
      database: "postgres://market@db.internal/market",
      deploymentsDir: at("deployments"),
      masterSecretFile: at("secrets/master.key"),
      operatorKey: { keystore: at("secrets/operator.json"), passwordFile: at("secrets/operator.password") },
      bootstrapAdmin: { apiKeyFile: at("secrets/admin.key") },
    });
  });

  it("name the file and the field at fault when they are wrong", async () => {
    const file = join(directory, "etc", "broken.json");
    await writeFile(file, JSON.stringify({ rpcUrl: "not a url" }));
    await expect(readGatewaySettings(file)).rejects.toThrow(/broken\.json.*rpcUrl/s);
    await writeFile(file, "{ not json");
    await expect(readStackSettings(file, {})).rejects.toThrow(/cannot read the settings file .*broken\.json/);
  });
});
