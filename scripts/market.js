#!/usr/bin/env node
// The `market` command. It runs the TypeScript sources through tsx, so that the CLI, the scripts
// and the tests share one build of the code.
import { register } from "tsx/esm/api";

// node:sqlite is stable enough for the agent's store; its experimental notice would only confuse users.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name !== "ExperimentalWarning") process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

register();
await import("./cli/main.ts");
