// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ILeases} from "./interfaces/ILeases.sol";
import {IMarket, MemberRoles} from "./interfaces/IMarket.sol";
import {INodes} from "./interfaces/INodes.sol";
import {IOffers, OfferLimits} from "./interfaces/IOffers.sol";
import {DailyWindow} from "./libraries/DailyWindow.sol";
import {NodeCalendar} from "./libraries/NodeCalendar.sol";
import {Pricing} from "./libraries/Pricing.sol";

/// @title Offers
/// @notice The offer book. A provider lists a node's availability window, cut into slices, under
/// one price model: fixed (instant booking, first come first served), dynamic (a posted price that
/// rises with the share of the offer already booked, capped), or auction (sealed bids cleared by
/// the Market, above a public or sealed reserve). All offers of a node book through one calendar,
/// so the node is never sold twice for overlapping time, whatever the price model.
contract Offers is ReentrancyGuard, IOffers {
    using NodeCalendar for NodeCalendar.Calendar;

    enum PriceModel {
        Fixed,
        Dynamic,
        Auction
    }

    enum OfferStatus {
        None,
        Open,
        Closed
    }

    /// @notice Why a booking does not fit an offer.
    enum Unfit {
        None,
        Closed,
        WrongModel,
        Started,
        OutsideWindow,
        Misaligned,
        SliceCount,
        OutsideHours,
        NodeUnavailable,
        SellerInactive,
        Booked,
        Held
    }

    /// @notice What a provider lists. Times are unix seconds; prices are credit units per hour.
    /// For auctions `pricePerHour` is the public reserve, or 0 with `sealedReserve` set.
    struct OfferTerms {
        uint32 nodeId;
        uint32 start;
        uint32 end;
        uint32 sliceSeconds;
        uint16 minSlices;
        uint16 maxSlices;
        uint8 fromHour;
        uint8 toHour;
        PriceModel model;
        uint64 pricePerHour;
        uint16 surgeBps;
        bytes32 sealedReserve;
    }

    /// @notice A listed offer, in two slots.
    struct Offer {
        uint32 nodeId;
        uint32 start;
        uint32 end;
        uint32 sliceSeconds;
        uint16 minSlices;
        uint16 maxSlices;
        uint8 fromHour;
        uint8 toHour;
        PriceModel model;
        OfferStatus status;
        uint32 roundId;
        uint32 bookedSlices;
        address seller;
        uint64 pricePerHour;
        uint16 surgeBps;
        bool reserveSealed;
    }

    /// @notice The rounds not yet cleared that hold a node's (or a seller's) auction offers, and the
    /// span of the node's time they offer. Two rounds, since round `r + 1` takes commits while `r`
    /// reveals and clears. One slot.
    struct Hold {
        uint32 roundId;
        uint32 earlierRoundId;
        uint32 from;
        uint32 to;
    }

    /// @notice Domain tag of sealed reserve prices.
    bytes32 public constant RESERVE_TYPEHASH = keccak256("Metalmarket.Reserve(uint32 nodeId,uint64 pricePerHour)");
    /// @notice The shortest slice, in seconds.
    uint32 public constant MIN_SLICE_SECONDS = OfferLimits.MIN_SLICE_SECONDS;
    /// @notice The most calendar units one lease may span, which bounds a booking's gas.
    uint256 public constant MAX_LEASE_UNITS = 8192;
    /// @notice Highest surge of a dynamic price, in basis points of its base (+500%).
    uint16 public constant MAX_SURGE_BPS = 50_000;
    /// @notice The most auction offers one tenant enrols in one round: no provider fills a round
    /// (or the head of its pools) alone. A round itself holds any number.
    uint256 public constant MAX_TENANT_OFFERS_PER_ROUND = 256;
    /// @notice The most offers a pool bid tries, which bounds its gas whatever the round holds:
    /// seven tries that read a whole lease's calendar words and fail (about 107,000 gas each), and
    /// an eighth that books them all (about 860,000), stay under 2,000,000 gas (`clearWorstTx`).
    uint256 public constant MAX_POOL_TRIES = 8;

    /// @notice The Market: members, credits and the auction.
    IMarket public immutable market;
    /// @notice The node registry.
    INodes public immutable nodes;
    /// @notice The lease registry.
    ILeases public immutable leases;

    uint32 private _offerCount;
    mapping(uint32 offerId => Offer) private _offers;
    mapping(uint32 offerId => bytes32) private _sealedReserves;
    mapping(uint32 nodeId => uint32[]) private _nodeOffers;
    mapping(uint32 roundId => uint32[]) private _roundOffers;
    /// @dev A round's auction offers by profile their node fits, in enrolment order: pool bids
    /// search only the offers that can serve them.
    mapping(uint32 roundId => mapping(uint16 profileId => uint32[])) private _poolOffers;
    mapping(uint32 roundId => mapping(uint32 tenantId => uint256)) private _tenantOffersInRound;
    mapping(uint32 nodeId => NodeCalendar.Calendar) private _calendars;
    mapping(uint32 nodeId => Hold) private _nodeHolds;
    mapping(address seller => Hold) private _sellerHolds;
    /// @dev Sealed reserves ever enrolled: each commitment serves one offer in one round, so one
    /// opened in public cannot be enrolled again.
    mapping(bytes32 commitment => bool) private _usedReserves;

    /// @notice An offer was listed.
    event OfferCreated(uint32 indexed offerId, uint32 indexed nodeId, address indexed seller, OfferTerms terms);
    /// @notice An offer takes no more bookings; its leases go on.
    event OfferClosed(uint32 indexed offerId, address by);
    /// @notice A fixed or dynamic offer's (base) price changed.
    event OfferRepriced(uint32 indexed offerId, uint256 pricePerHour, address by);
    /// @notice An auction offer entered round `roundId` with a public reserve, or a sealed one.
    event OfferEnrolled(uint32 indexed offerId, uint32 indexed roundId, uint256 reservePerHour, bytes32 sealedReserve);
    /// @notice An auction offer's sealed reserve was opened.
    event ReserveRevealed(uint32 indexed offerId, uint32 indexed roundId, uint256 reservePerHour);
    /// @notice Slices of a fixed or dynamic offer were booked at once for lease `leaseId` at `pricePerHour`.
    event OfferBooked(
        uint32 indexed offerId,
        uint32 indexed leaseId,
        address indexed buyer,
        uint32 start,
        uint32 end,
        uint256 pricePerHour
    );
    /// @notice The node's time `[from, to)` went back to its calendar when a lease ended early.
    event CalendarReleased(uint32 indexed nodeId, uint32 indexed offerId, uint256 from, uint256 to);

    /// @notice `account` is not an active member with roles `roles`.
    error NotActiveMember(address account, uint8 roles);
    /// @notice `caller` may not manage offer or node `id`.
    error NotOfferManager(address caller, uint32 id);
    /// @notice Only the Market or the Leases contract may call this.
    error UnauthorizedCaller(address caller);
    /// @notice No offer has id `offerId`.
    error UnknownOffer(uint32 offerId);
    /// @notice The listed terms are invalid; `field` names the first that is wrong.
    error InvalidOfferTerms(string field);
    /// @notice The booking does not fit offer `offerId`, for `reason`.
    error OfferUnfit(uint32 offerId, Unfit reason);
    /// @notice The posted price `pricePerHour` is above the buyer's limit `maxPricePerHour`.
    error PriceAboveLimit(uint256 pricePerHour, uint256 maxPricePerHour);
    /// @notice Lease `leaseId` cannot be replaced by the caller.
    error NotReplaceable(uint32 leaseId);
    /// @notice Tenant `tenantId` has MAX_TENANT_OFFERS_PER_ROUND offers in round `roundId` already.
    error RoundFull(uint32 roundId, uint32 tenantId);
    /// @notice The offer is in round `roundId`, which has not been cleared yet.
    error RoundNotCleared(uint32 roundId);
    /// @notice Sealed reserves are revealed in the round's reveal window `[opensAt, closesAt)`.
    error OutsideRevealWindow(uint32 roundId, uint256 opensAt, uint256 closesAt);
    /// @notice The offer has no sealed reserve, or this is not it.
    error InvalidReserveReveal(uint32 offerId);
    /// @notice Sealed reserve `commitment` was enrolled before: seal each round's reserve afresh.
    error ReserveReused(bytes32 commitment);
    /// @notice Node `nodeId` is in maintenance or retired.
    error NodeUnavailable(uint32 nodeId);
    /// @notice An address given is the zero address.
    error ZeroAddress();

    constructor(IMarket market_, INodes nodes_, ILeases leases_) {
        if (address(market_) == address(0) || address(nodes_) == address(0) || address(leases_) == address(0)) {
            revert ZeroAddress();
        }
        market = market_;
        nodes = nodes_;
        leases = leases_;
    }

    // ---------------------------------------------------------------- listing

    /// @notice Lists an offer for one of the caller's tenant's nodes. Auction offers enter the current round.
    /// @return offerId The new offer's id, counting from 1; earlier ids were listed earlier.
    function createOffer(OfferTerms calldata terms) external returns (uint32 offerId) {
        if (!market.isActiveMember(msg.sender, MemberRoles.PROVIDER)) {
            revert NotActiveMember(msg.sender, MemberRoles.PROVIDER);
        }
        INodes.Node memory node = nodes.node(terms.nodeId);
        (uint32 tenantId, ) = market.memberOf(msg.sender);
        if (tenantId != node.tenantId) revert NotOfferManager(msg.sender, terms.nodeId);
        if (node.status != INodes.NodeStatus.Available) revert NodeUnavailable(terms.nodeId);
        _requireValidTerms(terms, node.calendarUnit);

        offerId = ++_offerCount;
        bool auction = terms.model == PriceModel.Auction;
        uint32 roundId = auction ? market.currentRound() : 0;
        _offers[offerId] = Offer({
            nodeId: terms.nodeId,
            start: terms.start,
            end: terms.end,
            sliceSeconds: terms.sliceSeconds,
            minSlices: terms.minSlices,
            maxSlices: terms.maxSlices,
            fromHour: terms.fromHour,
            toHour: terms.toHour,
            model: terms.model,
            status: OfferStatus.Open,
            roundId: roundId,
            bookedSlices: 0,
            seller: msg.sender,
            pricePerHour: terms.pricePerHour,
            surgeBps: terms.surgeBps,
            reserveSealed: terms.sealedReserve != 0
        });
        _nodeOffers[terms.nodeId].push(offerId);
        emit OfferCreated(offerId, terms.nodeId, msg.sender, terms);
        if (auction) _enroll(offerId, roundId, node.tenantId, terms.pricePerHour, terms.sealedReserve);
    }

    /// @notice Stops an offer from taking bookings. Leases already made go on. An auction offer
    /// closes only once its round is cleared: a seller cannot back out after seeing the bids.
    function closeOffer(uint32 offerId) external {
        Offer storage offer = _requireOfferManager(offerId);
        if (offer.status != OfferStatus.Open) revert OfferUnfit(offerId, Unfit.Closed);
        if (offer.model == PriceModel.Auction && !market.isRoundCleared(offer.roundId)) {
            revert RoundNotCleared(offer.roundId);
        }
        offer.status = OfferStatus.Closed;
        emit OfferClosed(offerId, msg.sender);
    }

    /// @notice Changes the price of a fixed offer, or the base price of a dynamic one.
    /// @dev Buyers name the most they pay per hour, so a change cannot catch a booking in flight.
    function setPrice(uint32 offerId, uint64 pricePerHour) external {
        Offer storage offer = _requireOfferManager(offerId);
        if (offer.model == PriceModel.Auction) revert OfferUnfit(offerId, Unfit.WrongModel);
        if (pricePerHour == 0) revert InvalidOfferTerms("pricePerHour");
        offer.pricePerHour = pricePerHour;
        emit OfferRepriced(offerId, pricePerHour, msg.sender);
    }

    /// @notice Puts an open auction offer into the current round, once its previous round is cleared.
    /// @param reservePerHour The public reserve, or 0 when `sealedReserve` is given.
    /// @param sealedReserve `reserveCommitment(...)` of a secret reserve, or 0.
    function enrollInRound(uint32 offerId, uint64 reservePerHour, bytes32 sealedReserve) external {
        Offer storage offer = _requireOfferManager(offerId);
        if (offer.model != PriceModel.Auction) revert OfferUnfit(offerId, Unfit.WrongModel);
        if (offer.status != OfferStatus.Open) revert OfferUnfit(offerId, Unfit.Closed);
        if (!market.isRoundCleared(offer.roundId)) revert RoundNotCleared(offer.roundId);
        (uint32 tenantId, , ) = nodes.bookingInfo(offer.nodeId);
        if (!market.isActiveTenant(tenantId)) revert OfferUnfit(offerId, Unfit.SellerInactive);
        if (sealedReserve != 0 && reservePerHour != 0) revert InvalidOfferTerms("reserve");
        uint32 roundId = market.currentRound();
        offer.roundId = roundId;
        offer.pricePerHour = reservePerHour;
        offer.reserveSealed = sealedReserve != 0;
        _enroll(offerId, roundId, tenantId, reservePerHour, sealedReserve);
    }

    /// @notice Opens an auction offer's sealed reserve during its round's reveal window. A reserve
    /// still sealed at clearing counts as no reserve: keeping it sealed cannot back the seller out
    /// of bids it has seen.
    function revealReserve(uint32 offerId, uint64 reservePerHour, bytes32 salt) external {
        Offer storage offer = _requireOfferManager(offerId);
        uint32 roundId = offer.roundId;
        (uint256 opensAt, uint256 closesAt) = market.revealWindow(roundId);
        if (block.timestamp < opensAt || block.timestamp >= closesAt) {
            revert OutsideRevealWindow(roundId, opensAt, closesAt);
        }
        bytes32 expected = reserveCommitment(offer.seller, offer.nodeId, reservePerHour, salt);
        if (!offer.reserveSealed || _sealedReserves[offerId] != expected) revert InvalidReserveReveal(offerId);
        offer.pricePerHour = reservePerHour;
        offer.reserveSealed = false;
        delete _sealedReserves[offerId];
        emit ReserveRevealed(offerId, roundId, reservePerHour);
    }

    // ---------------------------------------------------------------- booking

    /// @notice Books `slices` slices from `start` on a fixed or dynamic offer at its posted price,
    /// escrowing the cost from the caller's market account and creating the lease at once.
    /// @param maxPricePerHour The most the caller pays per hour; protects against a price change in flight.
    /// @param replacesLease A lease of the caller's to release once the new one is provisioned, or 0.
    /// @param image URL of the image the agent boots for the lease.
    /// @return leaseId The new lease.
    function bookInstant(
        uint32 offerId,
        uint32 start,
        uint16 slices,
        uint64 maxPricePerHour,
        uint32 replacesLease,
        string calldata image
    ) external nonReentrant returns (uint32 leaseId) {
        if (!market.isActiveMember(msg.sender, MemberRoles.BUYER)) {
            revert NotActiveMember(msg.sender, MemberRoles.BUYER);
        }
        Offer memory offer = _offers[offerId];
        if (offer.status == OfferStatus.None) revert UnknownOffer(offerId);
        if (offer.model == PriceModel.Auction) revert OfferUnfit(offerId, Unfit.WrongModel);
        uint256 price = _postedPrice(offer);
        if (price > maxPricePerHour) revert PriceAboveLimit(price, maxPricePerHour);
        if (replacesLease != 0 && !leases.isReplaceable(replacesLease, msg.sender))
            revert NotReplaceable(replacesLease);
        if (slices > offer.maxSlices) revert OfferUnfit(offerId, Unfit.SliceCount);
        // Worked out wide: `maxSlices` may promise more slices than the window holds, and
        // slices x sliceSeconds can exceed 32 bits. What fits the window fits 32 bits.
        uint256 length = uint256(slices) * offer.sliceSeconds;
        if (length > offer.end - offer.start) revert OfferUnfit(offerId, Unfit.OutsideWindow);
        uint32 duration = uint32(length);
        _requireNotSelfDealing(offerId, offer.nodeId, start, duration);
        Unfit reason = _tryBook(offerId, offer, start, duration);
        if (reason != Unfit.None) revert OfferUnfit(offerId, reason);

        uint256 cost = Pricing.cost(price, duration);
        market.escrow(msg.sender, cost);
        leaseId = _createLease(offerId, offer, msg.sender, start, duration, cost, replacesLease, image);
        emit OfferBooked(offerId, leaseId, msg.sender, start, start + duration, price);
    }

    /// @inheritdoc IOffers
    /// @dev Pay-as-bid: the winner pays its own price per hour. A direct bid tries its offer; a pool
    /// bid tries at most MAX_POOL_TRIES offers of its profile's pool. Invalid or unfitting bids return 0.
    function matchBid(BidRequest calldata bid) external returns (uint32 leaseId, uint256 cost) {
        if (msg.sender != address(market)) revert UnauthorizedCaller(msg.sender);
        BidTerms calldata terms = bid.terms;
        // Checked at reveal; a replaced lease the bidder released since (to void the bid for free)
        // no longer binds the bid: it is matched as a plain bid.
        uint32 replacesLease = terms.replacesLease;
        if (replacesLease != 0 && !leases.isReplaceable(replacesLease, bid.buyer)) replacesLease = 0;
        uint32 offerId = terms.offerId;
        Offer memory offer;
        if (offerId != 0) {
            offer = _offers[offerId];
            if (!_tryAuctionOffer(offerId, offer, terms)) return (0, 0);
        } else {
            (offerId, offer) = _matchPool(bid);
            if (offerId == 0) return (0, 0);
        }
        cost = Pricing.cost(terms.pricePerHour, terms.duration);
        // LeaseCreated records the booking; the Market's BidMatched records the price.
        leaseId = _createLease(offerId, offer, bid.buyer, terms.start, terms.duration, cost, replacesLease, "");
    }

    /// @inheritdoc IOffers
    /// @dev `from` is rounded up to the node's calendar unit; released slices no longer count as demand.
    function releaseCalendar(uint32 offerId, uint256 from, uint256 to) external {
        if (msg.sender != address(leases)) revert UnauthorizedCaller(msg.sender);
        Offer storage offer = _offers[offerId];
        uint32 nodeId = offer.nodeId;
        (, uint32 unit, ) = nodes.bookingInfo(nodeId);
        uint256 fromUnit = (from + unit - 1) / unit;
        uint256 toUnit = to / unit;
        if (fromUnit >= toUnit) return;
        _calendars[nodeId].release(fromUnit, toUnit);
        uint256 freedSlices = ((toUnit - fromUnit) * unit) / offer.sliceSeconds;
        uint32 booked = offer.bookedSlices;
        offer.bookedSlices = freedSlices < booked ? booked - uint32(freedSlices) : 0;
        emit CalendarReleased(nodeId, offerId, fromUnit * unit, toUnit * unit);
    }

    // ---------------------------------------------------------------- views

    /// @notice Offer `offerId`.
    function offerOf(uint32 offerId) external view returns (Offer memory) {
        Offer memory offer = _offers[offerId];
        if (offer.status == OfferStatus.None) revert UnknownOffer(offerId);
        return offer;
    }

    /// @inheritdoc IOffers
    function sellerOf(uint32 offerId) external view returns (address) {
        return _offers[offerId].seller;
    }

    /// @inheritdoc IOffers
    function roundHoldingNode(uint32 nodeId) external view returns (uint32) {
        return _unclearedRound(_nodeHolds[nodeId]);
    }

    /// @inheritdoc IOffers
    function roundHoldingSeller(address seller) external view returns (uint32) {
        return _unclearedRound(_sellerHolds[seller]);
    }

    /// @notice How many offers were ever listed; ids run from 1 to this.
    function offerCount() external view returns (uint32) {
        return _offerCount;
    }

    /// @notice Ids of the offers listed for `nodeId`, oldest first.
    function offersOfNode(uint32 nodeId) external view returns (uint32[] memory) {
        return _nodeOffers[nodeId];
    }

    /// @notice Ids of the auction offers in round `roundId`, in enrolment order.
    function offersInRound(uint32 roundId) external view returns (uint32[] memory) {
        return _roundOffers[roundId];
    }

    /// @notice The price per hour a booking pays now (fixed or dynamic), or the reserve of an auction
    /// offer (0 while sealed).
    function postedPrice(uint32 offerId) external view returns (uint256) {
        return _postedPrice(_offers[offerId]);
    }

    /// @notice The commitment of a sealed reserve, bound to seller, chain, this contract and node.
    function reserveCommitment(
        address seller,
        uint32 nodeId,
        uint64 reservePerHour,
        bytes32 salt
    ) public view returns (bytes32) {
        return
            keccak256(abi.encode(RESERVE_TYPEHASH, block.chainid, address(this), seller, nodeId, reservePerHour, salt));
    }

    /// @notice Why booking `[start, start + duration)` on `offerId` would fail now (`Unfit.None`: it
    /// would not). Checks everything a booking checks but the buyer and the price.
    function fitOf(uint32 offerId, uint32 start, uint32 duration) external view returns (Unfit) {
        Offer memory offer = _offers[offerId];
        if (offer.status == OfferStatus.None) revert UnknownOffer(offerId);
        (Unfit reason, uint32 unit) = _fit(offer, start, duration);
        if (reason != Unfit.None) return reason;
        return
            _calendars[offer.nodeId].isFree(start / unit, (uint256(start) + duration) / unit)
                ? Unfit.None
                : Unfit.Booked;
    }

    /// @notice True when nothing is booked on `nodeId` during `[start, end)`.
    function isFree(uint32 nodeId, uint256 start, uint256 end) external view returns (bool) {
        (, uint32 unit, ) = nodes.bookingInfo(nodeId);
        if (unit == 0 || end <= start) return false;
        return _calendars[nodeId].isFree(start / unit, (end + unit - 1) / unit);
    }

    /// @notice Raw calendar of `nodeId`: `count` words from word `fromWord`; bit `i` of word `w` is
    /// calendar unit `256 * w + i`, i.e. the seconds from `(256 * w + i) * calendarUnit`.
    function calendarWords(
        uint32 nodeId,
        uint256 fromWord,
        uint256 count
    ) external view returns (uint256[] memory words) {
        words = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            words[i] = _calendars[nodeId].words[fromWord + i];
        }
    }

    /// @notice Starts of up to `maxCount` free slices of `offerId`, from the first slice starting at
    /// or after `from`. Ignores the hours-of-day constraint and minimum length.
    function freeSlices(uint32 offerId, uint256 from, uint256 maxCount) external view returns (uint32[] memory starts) {
        Offer memory offer = _offers[offerId];
        (, uint32 unit, ) = nodes.bookingInfo(offer.nodeId);
        starts = new uint32[](maxCount);
        uint256 slice = offer.sliceSeconds;
        uint256 t =
            from <= offer.start ? offer.start : offer.start + ((from - offer.start + slice - 1) / slice) * slice;
        uint256 found;
        for (; found < maxCount && t + slice <= offer.end; t += slice) {
            if (_calendars[offer.nodeId].isFree(t / unit, (t + slice) / unit)) starts[found++] = uint32(t);
        }
        assembly ("memory-safe") {
            mstore(starts, found)
        }
    }

    // ---------------------------------------------------------------- internal

    /// @dev Puts the offer into `roundId`; `tenantId` is its node's tenant, which every caller has read.
    function _enroll(
        uint32 offerId,
        uint32 roundId,
        uint32 tenantId,
        uint256 reservePerHour,
        bytes32 sealedReserve
    ) private {
        Offer storage offer = _offers[offerId];
        uint32 nodeId = offer.nodeId;
        address seller = offer.seller;
        _nodeHolds[nodeId] = _withRound(_nodeHolds[nodeId], roundId, offer.start, offer.end);
        _sellerHolds[seller] = _withRound(_sellerHolds[seller], roundId, 0, 0);
        if (sealedReserve != 0) {
            if (_usedReserves[sealedReserve]) revert ReserveReused(sealedReserve);
            _usedReserves[sealedReserve] = true;
        }
        uint256 listed = _tenantOffersInRound[roundId][tenantId];
        if (listed >= MAX_TENANT_OFFERS_PER_ROUND) revert RoundFull(roundId, tenantId);
        _tenantOffersInRound[roundId][tenantId] = listed + 1;
        _roundOffers[roundId].push(offerId);
        uint256 fitting = nodes.fittingProfiles(nodeId);
        for (uint16 profileId = 1; fitting >> profileId != 0; ++profileId) {
            if ((fitting >> profileId) & 1 == 1) _poolOffers[roundId][profileId].push(offerId);
        }
        if (sealedReserve != 0) _sealedReserves[offerId] = sealedReserve;
        else delete _sealedReserves[offerId];
        emit OfferEnrolled(offerId, roundId, reservePerHour, sealedReserve);
    }

    /// @dev `held` with round `roundId` (and the node's time `[from, to)`) added. A round of the hold
    /// still uncleared is kept beside the new one, whichever of the two it is (rounds may be cleared
    /// in any order); cleared ones are forgotten, with their span once none is left. A hold keeps
    /// two rounds: with both still uncleared, the earlier must be cleared (anyone may) before a
    /// third is added, or the hold would forget a round whose bids are not settled.
    function _withRound(Hold memory held, uint32 roundId, uint32 from, uint32 to) private view returns (Hold memory) {
        if (held.roundId != roundId) {
            bool latestOpen = held.roundId != 0 && !market.isRoundCleared(held.roundId);
            uint32 earlier = held.earlierRoundId;
            bool earlierOpen = earlier != 0 && !market.isRoundCleared(earlier);
            if (latestOpen && earlierOpen) revert RoundNotCleared(earlier);
            held.earlierRoundId = latestOpen ? held.roundId : (earlierOpen ? earlier : 0);
            held.roundId = roundId;
            if (!latestOpen && !earlierOpen) (held.from, held.to) = (from, to);
        }
        if (from < held.from) held.from = from;
        if (to > held.to) held.to = to;
        return held;
    }

    /// @dev An uncleared round of `hold`, the earlier first; 0 when both are cleared.
    function _unclearedRound(Hold memory hold) private view returns (uint32) {
        if (hold.earlierRoundId != 0 && !market.isRoundCleared(hold.earlierRoundId)) return hold.earlierRoundId;
        if (hold.roundId != 0 && !market.isRoundCleared(hold.roundId)) return hold.roundId;
        return 0;
    }

    /// @dev Books a pool bid on one of at most MAX_POOL_TRIES offers of its profile's pool (a node
    /// held by its round cannot change its resources, so the pool's fit still holds), taken in
    /// enrolment order from a place that moves with the bid's id: successive pool bids spread over
    /// the pool rather than all falling to its head. Returns offer id 0 when none takes it.
    function _matchPool(BidRequest calldata bid) private returns (uint32 offerId, Offer memory offer) {
        BidTerms calldata terms = bid.terms;
        uint32[] storage pool =
            terms.profileId == 0 ? _roundOffers[terms.roundId] : _poolOffers[terms.roundId][terms.profileId];
        uint256 size = pool.length;
        uint256 tries = size < MAX_POOL_TRIES ? size : MAX_POOL_TRIES;
        for (uint256 i; i < tries; ++i) {
            offerId = pool[(bid.bidId + i) % size];
            offer = _offers[offerId];
            if (_tryAuctionOffer(offerId, offer, terms)) return (offerId, offer);
        }
        return (0, offer);
    }

    /// @dev Books the bid on auction offer `offerId` when it is in the bid's round and its reserve
    /// is met (a reserve still sealed counts as none).
    function _tryAuctionOffer(uint32 offerId, Offer memory offer, BidTerms calldata bid) private returns (bool) {
        if (offer.model != PriceModel.Auction || offer.roundId != bid.roundId || bid.pricePerHour < offer.pricePerHour)
            return false;
        return _tryBook(offerId, offer, bid.start, bid.duration) == Unfit.None;
    }

    /// @dev Books `[start, start + duration)` on the node's calendar when it fits the offer and the
    /// node; writes nothing unless it returns `Unfit.None`.
    function _tryBook(
        uint32 offerId,
        Offer memory offer,
        uint32 start,
        uint32 duration
    ) private returns (Unfit reason) {
        uint32 unit;
        (reason, unit) = _fit(offer, start, duration);
        if (reason != Unfit.None) return reason;
        if (!_calendars[offer.nodeId].tryBook(start / unit, (uint256(start) + duration) / unit)) return Unfit.Booked;
        if (offer.model == PriceModel.Dynamic) {
            _offers[offerId].bookedSlices = offer.bookedSlices + duration / offer.sliceSeconds;
        }
    }

    /// @dev Why a booking would not fit, short of the calendar; also returns the node's calendar unit.
    function _fit(Offer memory offer, uint32 start, uint32 duration) private view returns (Unfit, uint32 unit) {
        Unfit reason = _fitTerms(offer, start, duration);
        if (reason != Unfit.None) return (reason, 0);
        (uint32 tenantId, uint32 calendarUnit, INodes.NodeStatus status) = nodes.bookingInfo(offer.nodeId);
        if (status != INodes.NodeStatus.Available) return (Unfit.NodeUnavailable, 0);
        // The seller must still be a provider of the node's active tenant: one who left sells no more.
        if (!market.isActiveMemberOf(offer.seller, tenantId, MemberRoles.PROVIDER)) return (Unfit.SellerInactive, 0);
        return (Unfit.None, calendarUnit);
    }

    /// @dev The checks that need nothing but the offer itself.
    function _fitTerms(Offer memory offer, uint32 start, uint32 duration) private view returns (Unfit) {
        if (offer.status != OfferStatus.Open) return Unfit.Closed;
        uint256 end = uint256(start) + duration;
        if (uint256(start) + offer.sliceSeconds <= block.timestamp) return Unfit.Started;
        if (start < offer.start || end > offer.end) return Unfit.OutsideWindow;
        if ((start - offer.start) % offer.sliceSeconds != 0 || duration % offer.sliceSeconds != 0) {
            return Unfit.Misaligned;
        }
        uint256 slices = duration / offer.sliceSeconds;
        if (slices < offer.minSlices || slices > offer.maxSlices) return Unfit.SliceCount;
        if (!DailyWindow.contains(offer.fromHour, offer.toHour, start, end)) return Unfit.OutsideHours;
        return Unfit.None;
    }

    /// @dev Time an auction round offers is the round's until it clears: the seller's own tenant
    /// may not book it through another offer of the node, or it would take back (and release for a
    /// fee smaller than the bids' worth) what the bids were placed on.
    function _requireNotSelfDealing(uint32 offerId, uint32 nodeId, uint32 start, uint32 duration) private view {
        Hold memory hold = _nodeHolds[nodeId];
        if (start >= hold.to || hold.from >= uint256(start) + duration || _unclearedRound(hold) == 0) return;
        (uint32 buyerTenant, ) = market.memberOf(msg.sender);
        (uint32 nodeTenant, , ) = nodes.bookingInfo(nodeId);
        if (buyerTenant == nodeTenant) revert OfferUnfit(offerId, Unfit.Held);
    }

    function _createLease(
        uint32 offerId,
        Offer memory offer,
        address buyer,
        uint32 start,
        uint32 duration,
        uint256 cost,
        uint32 replacesLease,
        string memory image
    ) private returns (uint32) {
        return
            leases.createLease(
                ILeases.LeaseTerms({
                    buyer: buyer,
                    nodeId: offer.nodeId,
                    offerId: offerId,
                    start: start,
                    end: start + duration,
                    sliceSeconds: offer.sliceSeconds,
                    cost: uint96(cost),
                    replacesLease: replacesLease
                }),
                image
            );
    }

    function _postedPrice(Offer memory offer) private pure returns (uint256) {
        if (offer.model != PriceModel.Dynamic) return offer.pricePerHour;
        uint256 capacity = (offer.end - offer.start) / offer.sliceSeconds;
        return Pricing.dynamicPrice(offer.pricePerHour, offer.surgeBps, offer.bookedSlices, capacity);
    }

    function _requireOfferManager(uint32 offerId) private view returns (Offer storage offer) {
        offer = _offers[offerId];
        if (offer.status == OfferStatus.None) revert UnknownOffer(offerId);
        // The seller too only while it is a provider of the node's active tenant.
        if (!nodes.canManage(offer.nodeId, msg.sender)) {
            revert NotOfferManager(msg.sender, offerId);
        }
    }

    function _requireValidTerms(OfferTerms calldata terms, uint32 unit) private view {
        if (terms.sliceSeconds < MIN_SLICE_SECONDS || terms.sliceSeconds % unit != 0) {
            revert InvalidOfferTerms("sliceSeconds");
        }
        if (terms.start % unit != 0 || terms.end <= terms.start || terms.end <= block.timestamp) {
            revert InvalidOfferTerms("window");
        }
        if ((terms.end - terms.start) % terms.sliceSeconds != 0) revert InvalidOfferTerms("end");
        if (terms.minSlices == 0 || terms.maxSlices < terms.minSlices) revert InvalidOfferTerms("slices");
        if ((uint256(terms.maxSlices) * terms.sliceSeconds) / unit > MAX_LEASE_UNITS) {
            revert InvalidOfferTerms("maxSlices");
        }
        if (uint256(terms.minSlices) * terms.sliceSeconds > terms.end - terms.start)
            revert InvalidOfferTerms("minSlices");
        if (!DailyWindow.isValid(terms.fromHour, terms.toHour)) revert InvalidOfferTerms("hours");
        bool auction = terms.model == PriceModel.Auction;
        if (!auction && terms.pricePerHour == 0) revert InvalidOfferTerms("pricePerHour");
        if (terms.sealedReserve != 0 && (!auction || terms.pricePerHour != 0))
            revert InvalidOfferTerms("sealedReserve");
        if (terms.model == PriceModel.Dynamic ? terms.surgeBps > MAX_SURGE_BPS : terms.surgeBps != 0) {
            revert InvalidOfferTerms("surgeBps");
        }
    }
}
