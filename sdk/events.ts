import { EventFragment, JsonRpcApiProvider, toQuantity, type Interface, type Log, type Provider } from "ethers";

import type { TypedContractEvent } from "../typechain-types/common.js";
import { plainArgs, type Decoded } from "./abi-values.js";
import { contractInterfaces, contractNames, type ContractName, type MarketContracts } from "./contracts.js";
import type { Deployment } from "./deployment.js";

/** The arguments of every event a contract emits, by event name. */
type EventArgsOf<C> = C extends { filters: infer Filters }
  ? {
      [
        Name in keyof Filters as Name extends `${string}(${string}` ? never : Name
      ]: Filters[Name] extends TypedContractEvent<infer _Input, infer _Output, infer Args> ? Decoded<Args> : never;
    }
  : never;

/** Where an event sits on the chain: enough for anyone to check it against the chain. */
export interface EventLocation {
  address: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
  /** The block's time (unix seconds), when the node sends it with logs (EDR, geth 1.14 and later). */
  blockTimestamp?: number;
}

/** One decoded event of contract `C`, named `N`. */
export interface EventRecord<C extends ContractName, N extends string, A> extends EventLocation {
  contract: C;
  name: N;
  args: A;
}

/** Every event of every market contract, as a union discriminated by `contract` and `name`. */
export type MarketEvent = {
  [C in ContractName]: {
    [N in keyof EventArgsOf<MarketContracts[C]> & string]: EventRecord<C, N, EventArgsOf<MarketContracts[C]>[N]>;
  }[keyof EventArgsOf<MarketContracts[C]> & string];
}[ContractName];

/** The event named `N` (of whichever contract emits it). */
export type MarketEventNamed<N extends MarketEvent["name"]> = Extract<MarketEvent, { name: N }>;

const topicMaps = new Map<ContractName, Map<string, EventFragment>>();

/**
 * A contract's events by topic hash, worked out once: ethers hashes every event signature again
 * on each `parseLog`, which made decoding the indexer's and the gateway's busiest work. Each is
 * kept as an anonymous twin, decoded from the topics after the first: the topic is matched here
 * already, and `decodeEventLog` would hash the signature once more to check it.
 */
function eventsByTopic(contract: ContractName): Map<string, EventFragment> {
  let byTopic = topicMaps.get(contract);
  if (byTopic === undefined) {
    byTopic = new Map();
    contractInterfaces[contract].forEachEvent((fragment) => {
      const twin = EventFragment.from({ ...(JSON.parse(fragment.format("json")) as object), anonymous: true });
      byTopic?.set(fragment.topicHash, twin);
    });
    topicMaps.set(contract, byTopic);
  }
  return byTopic;
}

/** What decoding needs of a log: ethers' `Log`, or a node's raw log once its numbers are parsed. */
export type LogLike = Pick<
  Log,
  "address" | "topics" | "data" | "blockNumber" | "blockHash" | "transactionHash" | "index"
> & {
  blockTimestamp?: number;
};

/** Decodes logs of one deployment into typed records; logs of other contracts give `undefined`. */
export function createEventDecoder(deployment: Deployment): (log: LogLike) => MarketEvent | undefined {
  const byAddress = new Map<string, ContractName>();
  for (const name of contractNames) byAddress.set(deployment.contracts[name].toLowerCase(), name);

  return (log) => {
    const contract = byAddress.get(log.address.toLowerCase());
    if (contract === undefined) return undefined;
    const fragment = eventsByTopic(contract).get(log.topics[0] ?? "");
    if (fragment === undefined) return undefined;
    const values = contractInterfaces[contract].decodeEventLog(fragment, log.data, log.topics.slice(1));
    const record: EventRecord<ContractName, string, Record<string, unknown>> = {
      contract,
      name: fragment.name,
      args: plainArgs(fragment.inputs, values),
      address: log.address,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      transactionHash: log.transactionHash,
      logIndex: log.index,
      ...(log.blockTimestamp === undefined ? {} : { blockTimestamp: log.blockTimestamp }),
    };
    // The record is built from the contract's own ABI, which is what the union type describes.
    return record as unknown as MarketEvent;
  };
}

/** Narrows a fetch to some events of one contract, e.g. an agent following its leases. */
export interface EventFilter {
  contract: ContractName;
  events: readonly string[];
}

/** Every market event in blocks `[fromBlock, toBlock]` (or those `filter` names), in chain order. */
export async function fetchEvents(
  provider: Provider,
  deployment: Deployment,
  fromBlock: number,
  toBlock: number | "latest" = "latest",
  filter?: EventFilter,
): Promise<MarketEvent[]> {
  const decode = createEventDecoder(deployment);
  const query = {
    address:
      filter === undefined
        ? contractNames.map((name) => deployment.contracts[name])
        : deployment.contracts[filter.contract],
    fromBlock,
    toBlock,
    ...(filter === undefined ? {} : { topics: [filter.events.map((name) => topicOf(filter.contract, name))] }),
  };
  const logs = provider instanceof JsonRpcApiProvider ? await rawLogs(provider, query) : await provider.getLogs(query);
  const events: MarketEvent[] = [];
  for (const log of logs) {
    const event = decode(log);
    if (event !== undefined) events.push(event);
  }
  return events;
}

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  blockTimestamp?: string;
}

/**
 * `eth_getLogs` as the node answers it: nodes that send each log's block time (EDR, geth 1.14 and
 * later) save a block read per block for whoever needs the time, such as an indexer.
 */
async function rawLogs(
  provider: JsonRpcApiProvider,
  query: { address: string | string[]; fromBlock: number; toBlock: number | "latest"; topics?: string[][] },
): Promise<LogLike[]> {
  const raw = (await provider.send("eth_getLogs", [
    {
      ...query,
      fromBlock: toQuantity(query.fromBlock),
      toBlock: query.toBlock === "latest" ? "latest" : toQuantity(query.toBlock),
    },
  ])) as RawLog[];
  return raw.map(logOf);
}

function logOf(log: RawLog): LogLike {
  return {
    address: log.address,
    topics: log.topics,
    data: log.data,
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    index: Number(log.logIndex),
    ...(log.blockTimestamp === undefined ? {} : { blockTimestamp: Number(log.blockTimestamp) }),
  };
}

function topicOf(contract: ContractName, name: string): string {
  // Each contract's interface types its own event names; any of them takes a plain name.
  const iface: Interface = contractInterfaces[contract];
  const event = iface.getEvent(name);
  if (event === null) throw new Error(`${contract} has no event ${name}`);
  return event.topicHash;
}

/** The market events emitted by one mined transaction. */
export function eventsOfReceipt(deployment: Deployment, receipt: { logs: readonly LogLike[] }): MarketEvent[] {
  const decode = createEventDecoder(deployment);
  return receipt.logs.flatMap((log) => {
    const event = decode(log);
    return event === undefined ? [] : [event];
  });
}
