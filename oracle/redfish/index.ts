export * from "./client.js";
export * from "./errors.js";
export * from "./inventory.js";
export * from "./read-inventory.js";
export * from "./sequences.js";
export * from "./system.js";
export type { TlsOptions } from "./transport.js";
