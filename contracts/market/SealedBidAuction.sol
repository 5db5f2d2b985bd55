// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ILeases} from "../interfaces/ILeases.sol";
import {IOffers, OfferLimits} from "../interfaces/IOffers.sol";
import {IAuctionClock, MemberRoles} from "../interfaces/IMarket.sol";
import {Pricing} from "../libraries/Pricing.sol";
import {CreditAccounts} from "./CreditAccounts.sol";
import {TenantDirectory} from "./TenantDirectory.sol";

/// @title SealedBidAuction
/// @notice Sealed-bid rounds. A buyer commits `hash(terms, salt)`, bound to bidder, chain, contract
/// and round, with a deposit that may exceed the bid so that it does not reveal it; reveals in the
/// round's reveal window; and clearing, which anyone may run in chunks, matches the revealed bids
/// highest price per hour first (ties: earlier commit first, so that racing a reveal gains nothing).
/// Winners pay their own bid (pay-as-bid); an unrevealed bid loses `penaltyBps` of its deposit;
/// everything else is refunded.
///
/// Rounds follow a fixed schedule: round `r` (from 1) takes commits during
/// `[genesis + (r - 1) * commitSeconds, genesis + r * commitSeconds)`, reveals during the next
/// `revealSeconds`, and clears after that. Round `r + 1` takes commits while `r` reveals.
abstract contract SealedBidAuction is TenantDirectory, CreditAccounts, IAuctionClock {
    /// @notice Domain tag of bid commitments.
    bytes32 public constant BID_TYPEHASH = keccak256(
        "Metalmarket.Bid(uint32 roundId,uint32 offerId,uint16 profileId,uint32 start,uint32 duration,"
        "uint64 pricePerHour,uint32 replacesLease)"
    );

    /// @notice Round schedule and penalty, fixed at deployment.
    struct AuctionSchedule {
        uint64 genesis;
        uint32 commitSeconds;
        uint32 revealSeconds;
        uint16 penaltyBps;
    }

    /// @dev A commitment still sealed: one slot.
    struct Commit {
        uint96 deposit;
        uint32 roundId;
        uint32 committedAt;
    }

    /// @notice A revealed bid; `next` links the round's bids in clearing order. Two slots.
    struct Bid {
        address bidder;
        uint96 deposit;
        uint64 pricePerHour;
        uint32 start;
        uint32 duration;
        uint32 offerId;
        uint16 profileId;
        uint32 replacesLease;
        uint32 next;
        /// @dev When the bid was committed, in ticks of `sealTick` seconds from its commit phase's start.
        uint16 sealedAt;
    }

    enum RoundState {
        Open,
        Clearing,
        Cleared
    }

    /// @notice A round's revealed bids (ids 1..revealed), the head of its price order, and clearing progress.
    struct Round {
        uint32 revealed;
        uint32 head;
        uint32 cursor;
        uint32 matched;
        RoundState state;
    }

    /// @notice Start of round 1's commit phase.
    uint256 public immutable genesis;
    /// @notice Length of a commit phase; also the spacing of rounds.
    uint256 public immutable commitSeconds;
    /// @notice Length of a reveal phase.
    uint256 public immutable revealSeconds;
    /// @notice Share of an unrevealed bid's deposit kept as penalty, in basis points.
    uint256 public immutable penaltyBps;
    /// @notice Resolution, in seconds, of the commit time that breaks ties between equal prices:
    /// the smallest that counts a whole commit phase in the 16 bits a bid has left.
    uint256 public immutable sealTick;

    mapping(address bidder => mapping(bytes32 commitment => Commit)) private _commits;
    mapping(uint32 roundId => Round) private _rounds;
    mapping(uint32 roundId => mapping(uint32 bidId => Bid)) private _bids;

    /// @notice `bidder` sealed a bid for `roundId` and escrowed `deposit`.
    event BidCommitted(uint32 indexed roundId, address indexed bidder, bytes32 commitment, uint256 deposit);
    /// @notice A sealed bid was opened and took its place in the round's price order. Its terms are
    /// what was committed; hashing them with the salt (in the transaction) gives the commitment.
    /// `image` is what a lease the bid wins boots: kept here only, not in storage, where it would
    /// cost a reveal and the lease's creation some 66,000 gas each; `BidMatched` links the two.
    event BidRevealed(
        uint32 indexed roundId,
        uint32 indexed bidId,
        address indexed bidder,
        uint32 offerId,
        uint16 profileId,
        uint32 start,
        uint32 duration,
        uint64 pricePerHour,
        uint32 replacesLease,
        string image
    );
    /// @notice An unrevealed bid ended: `penalty` to the treasury, `refund` back to the bidder.
    event BidForfeited(
        uint32 indexed roundId,
        address indexed bidder,
        bytes32 commitment,
        uint256 penalty,
        uint256 refund
    );
    /// @notice A bid won lease `leaseId` at `cost`; the rest of its deposit, `refund`, was released.
    event BidMatched(
        uint32 indexed roundId,
        uint32 indexed bidId,
        uint32 indexed leaseId,
        uint256 cost,
        uint256 refund
    );
    /// @notice A bid found no offer; its whole deposit, `refund`, was released.
    event BidUnmatched(uint32 indexed roundId, uint32 indexed bidId, uint256 refund);
    /// @notice Every revealed bid of the round has been matched or refunded.
    event RoundCleared(uint32 indexed roundId, uint32 bids, uint32 matched);

    /// @notice The schedule's lengths must be positive and the penalty at most 100%.
    error InvalidSchedule();
    /// @notice The chain's clock does not count seconds in 32 bits.
    error UnsupportedClock(uint256 timestamp);
    /// @notice A commit for `roundId` arrived while round `current` takes commits: it would be
    /// revealed in the wrong window, so it is refused and nothing is escrowed.
    error NotCommitPhase(uint32 roundId, uint32 current);
    /// @notice `bidder` already sealed `commitment`.
    error CommitmentExists(address bidder, bytes32 commitment);
    /// @notice `bidder` has no sealed bid `commitment`.
    error UnknownCommitment(address bidder, bytes32 commitment);
    /// @notice The bid was committed in round `committedIn`, not `revealedFor`.
    error RoundMismatch(uint32 committedIn, uint32 revealedFor);
    /// @notice Reveals of `roundId` are taken during `[opensAt, closesAt)` only.
    error OutsideRevealWindow(uint32 roundId, uint256 opensAt, uint256 closesAt);
    /// @notice The reveal phase of `roundId` runs until `closesAt`.
    error RevealWindowOpen(uint32 roundId, uint256 closesAt);
    /// @notice A bid needs a start, a price and a duration of at least one shortest slice.
    error InvalidBidTerms();
    /// @notice Lease `leaseId` is not the bidder's, or is over: a bid cannot replace it.
    error NotReplaceable(uint32 leaseId);
    /// @notice The bid could cost `maxCost`, more than its `deposit`: it is invalid.
    error BidExceedsDeposit(uint256 maxCost, uint256 deposit);
    /// @notice `roundId` is cleared already.
    error RoundAlreadyCleared(uint32 roundId);

    constructor(AuctionSchedule memory schedule) {
        if (block.timestamp > type(uint32).max) revert UnsupportedClock(block.timestamp);
        if (
            schedule.commitSeconds == 0 ||
            schedule.revealSeconds == 0 ||
            schedule.penaltyBps > Pricing.BPS ||
            schedule.genesis > block.timestamp
        ) revert InvalidSchedule();
        genesis = schedule.genesis;
        commitSeconds = schedule.commitSeconds;
        revealSeconds = schedule.revealSeconds;
        penaltyBps = schedule.penaltyBps;
        sealTick = schedule.commitSeconds / (uint256(type(uint16).max) + 1) + 1;
    }

    // ---------------------------------------------------------------- bidding

    /// @notice Seals a bid for round `roundId`, escrowing `deposit` of the caller's available credits.
    /// @dev No external calls: the whole commit is one new slot and one account write. The round is
    /// named, not taken from the clock: a commit mined after its round's commit phase ended reverts
    /// instead of landing in the next round, where its terms could never be revealed.
    /// @param commitment `bidCommitment(caller, terms, salt)`, computed off-chain.
    /// @param deposit Credits to escrow; at least the bid's cost, and may exceed it to hide it.
    /// @param roundId The round the terms name; must be the one taking commits.
    function commitBid(bytes32 commitment, uint96 deposit, uint32 roundId) external {
        if (deposit == 0) revert ZeroAmount();
        uint32 current = currentRound();
        if (roundId != current) revert NotCommitPhase(roundId, current);
        Account storage account = _accounts[msg.sender];
        _requireActiveMember(account, msg.sender, MemberRoles.BUYER);
        Commit storage seal = _commits[msg.sender][commitment];
        if (seal.deposit != 0) revert CommitmentExists(msg.sender, commitment);
        _lock(account, msg.sender, deposit);
        _writeCommit(seal, deposit, roundId, uint32(block.timestamp));
        emit BidCommitted(roundId, msg.sender, commitment, deposit);
    }

    /// @notice Opens the caller's sealed bid in its round's reveal window.
    /// @param terms The bid's terms, as committed.
    /// @param salt The secret committed with them.
    /// @param hint A revealed bid of the round priced at or above this one (see `insertionHint`);
    /// 0 to search from the top.
    /// @param image URL of the image the won lease boots (public: no credentials), so the lease is
    /// complete when clearing creates it; "" for none.
    /// @return bidId The bid's id in the round.
    function revealBid(
        IOffers.BidTerms calldata terms,
        bytes32 salt,
        uint32 hint,
        string calldata image
    ) external returns (uint32 bidId) {
        bytes32 commitment = bidCommitment(msg.sender, terms, salt);
        Commit memory seal = _commits[msg.sender][commitment];
        if (seal.deposit == 0) revert UnknownCommitment(msg.sender, commitment);
        uint32 roundId = terms.roundId;
        if (seal.roundId != roundId) revert RoundMismatch(seal.roundId, roundId);
        (uint256 opensAt, uint256 closesAt) = revealWindow(roundId);
        if (block.timestamp < opensAt || block.timestamp >= closesAt) {
            revert OutsideRevealWindow(roundId, opensAt, closesAt);
        }
        _requireValidBid(terms, seal.deposit);

        delete _commits[msg.sender][commitment];
        Round storage round = _rounds[roundId];
        bidId = ++round.revealed;
        uint16 sealedAt = _sealedAt(roundId, seal.committedAt);
        (uint32 previous, uint32 next) = _findPlace(round, roundId, terms.pricePerHour, sealedAt, hint);
        _writeBid(
            _bids[roundId][bidId],
            Bid({
                bidder: msg.sender,
                deposit: seal.deposit,
                pricePerHour: terms.pricePerHour,
                start: terms.start,
                duration: terms.duration,
                offerId: terms.offerId,
                profileId: terms.profileId,
                replacesLease: terms.replacesLease,
                next: next,
                sealedAt: sealedAt
            })
        );
        if (previous == 0) round.head = bidId;
        else _bids[roundId][previous].next = bidId;
        emit BidRevealed(
            roundId,
            bidId,
            msg.sender,
            terms.offerId,
            terms.profileId,
            terms.start,
            terms.duration,
            terms.pricePerHour,
            terms.replacesLease,
            image
        );
    }

    /// @notice Ends a bid that was never revealed: the treasury keeps the penalty, the bidder gets the rest.
    /// @dev Anyone may call it once the bid's reveal window has closed.
    function forfeitUnrevealed(address bidder, bytes32 commitment) external {
        Commit memory seal = _commits[bidder][commitment];
        if (seal.deposit == 0) revert UnknownCommitment(bidder, commitment);
        (, uint256 closesAt) = revealWindow(seal.roundId);
        if (block.timestamp < closesAt) revert RevealWindowOpen(seal.roundId, closesAt);
        delete _commits[bidder][commitment];
        uint256 penalty = (uint256(seal.deposit) * penaltyBps) / Pricing.BPS;
        uint256 refund = seal.deposit - penalty;
        Account storage account = _accounts[bidder];
        _unlock(account, bidder, seal.deposit);
        _credit(account, refund);
        _credit(_accounts[treasury], penalty);
        emit BidForfeited(seal.roundId, bidder, commitment, penalty, refund);
    }

    // ---------------------------------------------------------------- clearing

    /// @notice Matches up to `maxBids` more revealed bids of `roundId`, in price order. Anyone may call it
    /// once the reveal window has closed; call again until it returns true.
    /// @dev Each bid costs bounded gas (a pool bid tries at most `Offers.MAX_POOL_TRIES` offers of
    /// its profile's pool), so `maxBids` bounds the transaction. Outcomes never depend on the gas given: a bid is
    /// matched or refunded by rule, and a transaction that runs short of gas reverts whole.
    /// @return cleared True when every bid of the round has been settled.
    function clearRound(uint32 roundId, uint256 maxBids) external nonReentrant returns (bool cleared) {
        (, uint256 closesAt) = revealWindow(roundId);
        if (block.timestamp < closesAt) revert RevealWindowOpen(roundId, closesAt);
        Round memory round = _rounds[roundId];
        if (round.state == RoundState.Cleared) revert RoundAlreadyCleared(roundId);
        uint32 cursor = round.state == RoundState.Open ? round.head : round.cursor;
        IOffers book = IOffers(offers);
        for (uint256 taken; cursor != 0 && taken < maxBids; ++taken) {
            Bid memory bid = _bids[roundId][cursor];
            if (_settleBid(book, roundId, cursor, bid)) ++round.matched;
            cursor = bid.next;
        }
        cleared = cursor == 0;
        round.cursor = cursor;
        round.state = cleared ? RoundState.Cleared : RoundState.Clearing;
        _rounds[roundId] = round;
        if (cleared) emit RoundCleared(roundId, round.revealed, round.matched);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAuctionClock
    function currentRound() public view returns (uint32) {
        return uint32((block.timestamp - genesis) / commitSeconds + 1);
    }

    /// @inheritdoc IAuctionClock
    /// @dev A round whose reveal window closed without a revealed bid has nothing to clear.
    function isRoundCleared(uint32 roundId) external view returns (bool) {
        Round storage round = _rounds[roundId];
        if (round.state == RoundState.Cleared) return true;
        (, uint256 closesAt) = revealWindow(roundId);
        return round.revealed == 0 && block.timestamp >= closesAt;
    }

    /// @notice The commit phase `[opensAt, closesAt)` of `roundId`.
    function commitWindow(uint32 roundId) public view returns (uint256 opensAt, uint256 closesAt) {
        closesAt = genesis + uint256(roundId) * commitSeconds;
        opensAt = closesAt - commitSeconds;
    }

    /// @inheritdoc IAuctionClock
    function revealWindow(uint32 roundId) public view returns (uint256 opensAt, uint256 closesAt) {
        opensAt = genesis + uint256(roundId) * commitSeconds;
        closesAt = opensAt + revealSeconds;
    }

    /// @notice The commitment a bidder seals for `terms` and `salt`.
    function bidCommitment(
        address bidder,
        IOffers.BidTerms calldata terms,
        bytes32 salt
    ) public view returns (bytes32) {
        return keccak256(abi.encode(BID_TYPEHASH, block.chainid, address(this), bidder, terms, salt));
    }

    /// @notice A sealed bid's deposit and round; zero when unknown or already revealed or forfeited.
    function commitOf(address bidder, bytes32 commitment) external view returns (Commit memory) {
        return _commits[bidder][commitment];
    }

    /// @notice Round `roundId`'s bids and clearing progress.
    function roundOf(uint32 roundId) external view returns (Round memory) {
        return _rounds[roundId];
    }

    /// @notice Revealed bid `bidId` of `roundId`.
    function bidOf(uint32 roundId, uint32 bidId) external view returns (Bid memory) {
        return _bids[roundId][bidId];
    }

    /// @notice Up to `limit` bid ids of `roundId` in clearing order, starting after `afterBidId` (0: from the top).
    function bidsByPrice(uint32 roundId, uint32 afterBidId, uint256 limit) external view returns (uint32[] memory ids) {
        ids = new uint32[](limit);
        uint32 cursor = afterBidId == 0 ? _rounds[roundId].head : _bids[roundId][afterBidId].next;
        uint256 count;
        for (; count < limit && cursor != 0; ++count) {
            ids[count] = cursor;
            cursor = _bids[roundId][cursor].next;
        }
        assembly ("memory-safe") {
            mstore(ids, count)
        }
    }

    /// @notice The revealed bid after which `bidder`'s sealed bid `commitment`, at `pricePerHour`,
    /// would be placed: the hint for `revealBid`.
    function insertionHint(
        uint32 roundId,
        uint64 pricePerHour,
        address bidder,
        bytes32 commitment
    ) external view returns (uint32 previous) {
        uint16 sealedAt = _sealedAt(roundId, _commits[bidder][commitment].committedAt);
        (previous, ) = _findPlace(_rounds[roundId], roundId, pricePerHour, sealedAt, 0);
    }

    // ---------------------------------------------------------------- internal

    /// @inheritdoc TenantDirectory
    function _roundHoldingSeller(address account) internal view override returns (uint32) {
        address book = offers;
        return book == address(0) ? 0 : IOffers(book).roundHoldingSeller(account);
    }

    /// @dev A commit time as ticks from its round's commit phase start; 0 for an unknown commit. A
    /// commit lands only in its round's commit phase, so the ticks fit 16 bits.
    function _sealedAt(uint32 roundId, uint32 committedAt) private view returns (uint16) {
        (uint256 opensAt, ) = commitWindow(roundId);
        return committedAt <= opensAt ? 0 : uint16((committedAt - opensAt) / sealTick);
    }

    /// @dev Where a bid at `price`, sealed at `sealedAt`, goes in the round's order: after every bid
    /// priced above it, and after every bid at its price sealed no later. Starts from `hint` when
    /// the hint is such a bid, else from the top.
    function _findPlace(
        Round storage round,
        uint32 roundId,
        uint64 price,
        uint16 sealedAt,
        uint32 hint
    ) private view returns (uint32 previous, uint32 next) {
        mapping(uint32 => Bid) storage bids = _bids[roundId];
        if (hint != 0 && hint < round.revealed && _precedes(bids[hint], price, sealedAt)) {
            previous = hint;
            next = bids[hint].next;
        } else {
            next = round.head;
        }
        while (next != 0 && _precedes(bids[next], price, sealedAt)) {
            previous = next;
            next = bids[next].next;
        }
    }

    /// @dev Whether `bid` clears before a bid at `price` sealed at `sealedAt`: higher price first,
    /// then earlier commit; at equal both, the one revealed first.
    function _precedes(Bid storage bid, uint64 price, uint16 sealedAt) private view returns (bool) {
        uint64 other = bid.pricePerHour;
        return other > price || (other == price && bid.sealedAt <= sealedAt);
    }

    // Fresh records are written with one SSTORE per slot: a struct assignment reads each cold slot
    // first and writes field by field, which costs a reveal about 5,000 gas. Solidity packs struct
    // fields from the low-order bits in declaration order; the getters' tests pin the layout.

    function _writeCommit(Commit storage slot, uint96 deposit, uint32 roundId, uint32 committedAt) private {
        uint256 word = uint256(deposit) | (uint256(roundId) << 96) | (uint256(committedAt) << 128);
        assembly ("memory-safe") {
            sstore(slot.slot, word)
        }
    }

    function _writeBid(Bid storage slot, Bid memory bid) private {
        uint256 first = uint256(uint160(bid.bidder)) | (uint256(bid.deposit) << 160);
        uint256 second =
            uint256(bid.pricePerHour) |
                (uint256(bid.start) << 64) |
                (uint256(bid.duration) << 96) |
                (uint256(bid.offerId) << 128) |
                (uint256(bid.profileId) << 160) |
                (uint256(bid.replacesLease) << 176) |
                (uint256(bid.next) << 208) |
                (uint256(bid.sealedAt) << 240);
        assembly ("memory-safe") {
            sstore(slot.slot, first)
            sstore(add(slot.slot, 1), second)
        }
    }

    /// @dev A bid the caller may reveal: sound terms within its deposit. A bid shorter than any
    /// slice could never be matched: it would only head the clearing order at the cost of a few
    /// seconds' price. The bidder's eligibility was fixed at commit: nothing it undoes since (its
    /// role, its tenant, the lease it replaces, once checked here) takes its bid out of clearing.
    function _requireValidBid(IOffers.BidTerms calldata terms, uint96 deposit) private view {
        if (terms.duration < OfferLimits.MIN_SLICE_SECONDS || terms.pricePerHour == 0 || terms.start == 0) {
            revert InvalidBidTerms();
        }
        uint256 maxCost = Pricing.cost(terms.pricePerHour, terms.duration);
        if (maxCost > deposit) revert BidExceedsDeposit(maxCost, deposit);
        uint32 replaced = terms.replacesLease;
        if (replaced != 0 && !ILeases(leases).isReplaceable(replaced, msg.sender)) revert NotReplaceable(replaced);
    }

    /// @dev Matches one bid and releases what it does not pay. The bidder's eligibility was checked
    /// at commit: dropping its buyer role, or leaving its tenant, since then voids nothing. Only the
    /// operator's suspension or deletion of its tenant (a sanction, not the bidder's choice) refunds it.
    function _settleBid(IOffers book, uint32 roundId, uint32 bidId, Bid memory bid) private returns (bool matched) {
        Account storage account = _accounts[bid.bidder];
        uint32 leaseId;
        uint256 cost;
        if (account.tenantId == 0 || isActiveTenant(account.tenantId)) {
            (leaseId, cost) = book.matchBid(
                IOffers.BidRequest({
                    terms: IOffers.BidTerms({
                        roundId: roundId,
                        offerId: bid.offerId,
                        profileId: bid.profileId,
                        start: bid.start,
                        duration: bid.duration,
                        pricePerHour: bid.pricePerHour,
                        replacesLease: bid.replacesLease
                    }),
                    buyer: bid.bidder,
                    bidId: bidId
                })
            );
        }
        // The lease keeps `cost` in escrow; matching never prices above the bid, so it fits the deposit.
        uint256 refund = bid.deposit - cost;
        _unlock(account, bid.bidder, refund);
        _credit(account, refund);
        matched = leaseId != 0;
        if (matched) emit BidMatched(roundId, bidId, leaseId, cost, refund);
        else emit BidUnmatched(roundId, bidId, refund);
    }
}
