import { createRequire } from "node:module";

import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatTypechain from "@nomicfoundation/hardhat-typechain";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  plugins: [hardhatEthers, hardhatTypechain, hardhatNetworkHelpers],
  solidity: {
    version: "0.8.28",
    path: require.resolve("solc/soljson.js"),
    settings: {
      evmVersion: "paris",
      viaIR: true,
      optimizer: { enabled: true, runs: 10_000 },
    },
  },
  paths: { tests: { solidity: "test/solidity" } },
  test: { solidity: { fuzz: { runs: 512 } } },
  typechain: { outDir: "typechain-types" },
  networks: {
    hardhat: { type: "edr-simulated", chainType: "l1" },
    // Stands in for a GoQuorum or Besu QBFT network: London rules, no fee market, free gas.
    quorumSimulated: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: 1337,
      hardfork: "london",
      initialBaseFeePerGas: 0,
      gasPrice: 0,
    },
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    quorum: {
      type: "http",
      chainType: "l1",
      url: configVariable("QUORUM_RPC_URL"),
      accounts: [configVariable("QUORUM_DEPLOYER_KEY")],
      gasPrice: 0,
    },
  },
});
