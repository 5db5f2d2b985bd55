import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

import { ContractFactory, Interface, type InterfaceAbi, type Signer } from "ethers";

/** The parts of solc-js's interface used here (the package ships no types). */
interface Solc {
  compile(input: string): string;
}

interface Compiled {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: InterfaceAbi; evm: { bytecode: { object: string } } }>>;
}

const SOURCE = "BatchBooker.sol";

/**
 * Compiles `BatchBooker.sol` with the project's solc (it is a benchmark's tool, not part of the
 * market, so the Hardhat build does not hold it) and returns a factory for it.
 */
export async function batchBookerFactory(deployer: Signer): Promise<ContractFactory> {
  const solc = createRequire(import.meta.url)("solc") as Solc;
  const content = await readFile(new URL(SOURCE, import.meta.url), "utf8");
  const output = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { [SOURCE]: { content } },
        settings: {
          evmVersion: "paris",
          optimizer: { enabled: true, runs: 200 },
          outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
        },
      }),
    ),
  ) as Compiled;
  const failures = (output.errors ?? []).filter((e) => e.severity === "error");
  if (failures.length > 0) throw new Error(failures.map((e) => e.formattedMessage).join("\n"));
  const contract = output.contracts?.[SOURCE]?.BatchBooker;
  if (contract === undefined) throw new Error(`${SOURCE} gave no BatchBooker`);
  return new ContractFactory(contract.abi, contract.evm.bytecode.object, deployer);
}

const BATCH = new Interface(["function run(address target, bytes[] calls)"]);

/** Calldata for `BatchBooker.run(target, calls)`. */
export function batchCall(target: string, calls: readonly string[]): string {
  return BATCH.encodeFunctionData("run", [target, calls]);
}
