export { plainArgs, plainValue, type Decoded } from "./abi-values.js";
export { busyIntervals, wordOf, wordsCovering, type Interval } from "./calendar.js";
export {
  BID_TYPEHASH,
  BidExceedsDepositError,
  RESERVE_TYPEHASH,
  bidCommitment,
  bidTermsSchema,
  checkSealedBid,
  maxBidCost,
  newSalt,
  reserveCommitment,
  sealBid,
  storeTerms,
  termsFromStore,
  type BidTerms,
  type CommitmentDomain,
  type SealedBid,
  type StoredBidTerms,
} from "./commitments.js";
export {
  MAX_CLEARING_TX_GAS,
  clearRoundInChunks,
  clearingChunk,
  type ClearingChunk,
  type RoundClearing,
} from "./clearing.js";
export {
  attach,
  contractInterfaces,
  contractNames,
  openDeployment,
  type ContractName,
  type MarketContracts,
} from "./contracts.js";
export {
  Arch,
  CreditRequestStatus,
  EndReason,
  LeaseStatus,
  MemberRole,
  NodeStatus,
  OfferStatus,
  PriceModel,
  RoundState,
  StandardProfile,
  TenantStatus,
  Unfit,
  nameOf,
} from "./enums.js";
export {
  DEFAULT_PROVISION_GRACE_SECONDS,
  DEFAULT_SCHEDULE,
  deployMarket,
  type AuctionSchedule,
  type DeployOptions,
} from "./deploy.js";
export { deploymentPath, deploymentSchema, readDeployment, writeDeployment, type Deployment } from "./deployment.js";
export {
  MarketRevertError,
  decodeRevert,
  decodeRevertData,
  errorMessage,
  revertDataOf,
  withDecodedRevert,
  type DecodedRevert,
} from "./errors.js";
export {
  createEventDecoder,
  eventsOfReceipt,
  fetchEvents,
  type EventFilter,
  type EventLocation,
  type LogLike,
  type EventRecord,
  type MarketEvent,
  type MarketEventNamed,
} from "./events.js";
export { transactionDefaultsFor } from "./fees.js";
export {
  DEFAULT_KEEPER_OPTIONS,
  Keeper,
  type KeeperCounters,
  type KeeperDependencies,
  type KeeperOptions,
  type KeeperStatus,
} from "./keeper.js";
export {
  KEEPER_EVENTS,
  OpenWork,
  classifyFailure,
  taskKey,
  type KeeperTask,
  type TaskFailure,
  type WorkRules,
} from "./keeper-work.js";
export { createKeystore, loadWallet, readPassword, type KeySource } from "./keys.js";
export { chainClock, nextBlockTime, type ChainNow } from "./chain-clock.js";
export { createProvider, latestBlockGasLimit, latestBlockTime } from "./provider.js";
export { DroppedTransactionError, receiptOf } from "./receipt-watcher.js";
export { MinedRevertError, confirmed } from "./receipts.js";
export { withGasHeadroom } from "./gas.js";
export { ManagedSigner, isNonceConflict, type TransactionDefaults } from "./signer.js";
export { CREDIT_DECIMALS, SECONDS_PER_HOUR, formatCredits, parseCredits } from "./units.js";
export { depositBucket, paddedDeposit } from "./deposits.js";
export { leaseImage } from "./lease-image.js";
export {
  cancellationFee,
  deliveredSoFar,
  divide,
  dynamicPrice,
  leaseCost,
  share,
  withinDailyWindow,
  type SettledLease,
} from "./protocol.js";
export { addressSchema, basisPointsSchema, parseOrThrow } from "./validation.js";
export { planRevealBurst, revealWindow, roundAt, type AuctionScheduleOf, type BurstReveal } from "./rounds.js";
export {
  CommitPhaseEndingError,
  SEALED_TRANSITIONS,
  SealedTransitionError,
  advanceSealedBids,
  commitRound,
  nextSealedState,
  sealedStep,
  type KeptSealedBid,
  type SealedBidCalls,
  type SealedBidStore,
  type SealedEvent,
  type SealedPass,
  type SealedState,
  type SealedStep,
} from "./sealed-lifecycle.js";
