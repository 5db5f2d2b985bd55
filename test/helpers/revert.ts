import { expect } from "vitest";

import { decodeRevert, type DecodedRevert } from "../../sdk/index.js";

/**
 * Expects `action` to revert with custom error `name`; when `args` is given, the error's
 * arguments must include those values. Returns the decoded error for further checks.
 */
export async function expectRevert(
  action: Promise<unknown>,
  name: string,
  args?: Record<string, unknown>,
): Promise<DecodedRevert> {
  let thrown: unknown;
  try {
    await action;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a revert with ${name}, but the call succeeded`).toBeDefined();
  const revert = decodeRevert(thrown);
  expect(revert?.name, `expected ${name}; got: ${String(thrown)}`).toBe(name);
  if (args !== undefined && revert !== undefined) expect(revert.args).toMatchObject(args);
  return revert as DecodedRevert;
}
