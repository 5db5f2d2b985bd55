/**
 * Deploys the market to the network given with --network and writes `<chainId>.json` into
 * MARKET_DEPLOYMENTS_DIR (default `deployments/`, ignored by git: deploy output is not source).
 *   npm run deploy -- --network localhost
 * Settings come from MARKET_* environment variables (see README).
 */
import { network } from "hardhat";

import { ManagedSigner, deployMarket, transactionDefaultsFor, writeDeployment } from "../sdk/index.js";
import { deploySettingsFromEnv, describeDeployment } from "./lib/deploy-settings.js";

const options = deploySettingsFromEnv(process.env);
const { ethers, networkName } = await network.create();
const [deployer] = await ethers.getSigners();
if (deployer === undefined) throw new Error(`network ${networkName} has no account to deploy from`);

const signer = new ManagedSigner(deployer, await transactionDefaultsFor(ethers.provider));
console.log(`Deploying to ${networkName} from ${deployer.address}`);
const { deployment } = await deployMarket(signer, { ...options, onStep: (step) => console.log(`  ${step}`) });
const path = await writeDeployment(deployment, process.env.MARKET_DEPLOYMENTS_DIR ?? "deployments");
console.log(describeDeployment(deployment));
console.log(`wrote ${path}`);
