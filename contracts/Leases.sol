// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ILeases} from "./interfaces/ILeases.sol";
import {IMarket} from "./interfaces/IMarket.sol";
import {INodes} from "./interfaces/INodes.sol";
import {IOffers} from "./interfaces/IOffers.sol";
import {Pricing} from "./libraries/Pricing.sol";
import {Settlement} from "./libraries/Settlement.sol";

/// @title Leases
/// @notice The contracts between buyers and sellers. A lease holds the buyer's credits in escrow;
/// only the node's agent reports it provisioned, failed, metered and cleaned; it ends by expiry,
/// early release by the buyer, preemption by the owner, provisioning failure, or an agent that never
/// reported in time (anyone may then claim the refund). The seller is paid for time delivered.
contract Leases is ReentrancyGuard, ILeases {
    enum LeaseStatus {
        None,
        Pending,
        Active,
        Ended,
        Cleaned
    }

    /// @notice A lease, in two slots.
    struct Lease {
        address buyer;
        uint32 nodeId;
        uint32 start;
        uint32 end;
        uint96 cost;
        uint32 offerId;
        uint32 sliceSeconds;
        LeaseStatus status;
        Settlement.EndReason endReason;
        uint32 provisionedAt;
        uint32 endedAt;
    }

    /// @notice The Market, which holds the escrow.
    IMarket public immutable market;
    /// @notice The node registry, which names each node's agent and managers.
    INodes public immutable nodes;
    /// @notice The rules a deployment sets for ending leases.
    struct EndTerms {
        /// Seconds after a lease's start within which its agent must report it provisioned.
        uint32 provisionGrace;
        /// Seconds between an owner's preemption of a lease and its end.
        uint32 preemptionNotice;
        /// Share of a lease's cost that backing out before its start costs, in basis points.
        uint16 cancellationBps;
    }

    /// @notice Seconds after a lease's start within which its agent must report it provisioned.
    uint32 public immutable provisionGrace;
    /// @notice Seconds between an owner's preemption and the lease's end, as spot markets give notice.
    uint32 public immutable preemptionNotice;
    /// @notice What backing out of a lease before its start costs, in basis points of its cost: a
    /// buyer's release pays it to the treasury (not to the seller, whom a shill of its own tenant
    /// would pay), an owner's preemption pays it to the buyer.
    uint16 public immutable cancellationBps;
    /// @notice The offer book; set once by the deployer.
    IOffers public offers;
    address private immutable _deployer;

    uint32 private _leaseCount;
    mapping(uint32 leaseId => Lease) private _leases;
    mapping(uint32 leaseId => string) private _nodeAddresses;
    mapping(uint32 leaseId => bytes32) private _usageRecords;
    mapping(uint32 leaseId => uint32) private _replaces;
    /// @dev The provisioned lease, reported ahead of its start, that takes over from a lease at that start.
    mapping(uint32 leaseId => uint32 replacement) private _replacedBy;
    /// @dev When a lease booked into a slice already under way was made: its agent's grace counts
    /// from then, not from the start, or anyone could void it (`settle`) in the next block.
    mapping(uint32 leaseId => uint32 bookedAt) private _bookedLate;
    /// @dev When a lease its owner preempted with notice ends.
    mapping(uint32 leaseId => uint32 endsAt) private _preemptedUntil;
    /// @dev The lease each node last ran for a buyer (provisioned, or failed by its agent) and that
    /// its agent has not reported wiped: no other lease is provisioned on the node until it is.
    mapping(uint32 nodeId => uint32 leaseId) private _unwiped;

    /// @notice A lease was made: the node is booked for `[start, end)` and `cost` is in escrow.
    event LeaseCreated(
        uint32 indexed leaseId,
        address indexed buyer,
        uint32 indexed nodeId,
        uint32 offerId,
        uint32 start,
        uint32 end,
        uint256 cost,
        uint32 replacesLease
    );
    /// @notice The image the agent boots for the lease; the last one set before provisioning counts.
    /// Kept in this event only: a URL in storage would cost three slots.
    event LeaseImageSet(uint32 indexed leaseId, string image);
    /// @notice The node's owner preempted the lease: it ends at `endsAt`, after the notice.
    event LeasePreempted(uint32 indexed leaseId, uint256 endsAt, address indexed by);
    /// @notice Backing out of the lease before its start cost `fee`, from `payer` to `payee`.
    event CancellationFeePaid(uint32 indexed leaseId, address indexed payer, address indexed payee, uint256 fee);
    /// @notice The agent booted the node for the lease; the buyer reaches it at `nodeAddress`.
    event LeaseProvisioned(uint32 indexed leaseId, address indexed agent, string nodeAddress);
    /// @notice The agent could not provision or keep the node running.
    event LeaseFailed(uint32 indexed leaseId, address indexed agent, string reason);
    /// @notice The agent anchored the hash of the lease's metered usage up to `meteredUntil`.
    event LeaseUsageReported(uint32 indexed leaseId, bytes32 recordHash, uint32 meteredUntil);
    /// @notice The lease ended and its escrow was settled.
    event LeaseEnded(
        uint32 indexed leaseId,
        Settlement.EndReason reason,
        uint256 paid,
        uint256 refund,
        address indexed by
    );
    /// @notice The agent wiped the node after the lease.
    event LeaseCleaned(uint32 indexed leaseId, address indexed agent);
    /// @notice The offer book was connected.
    event OffersConnected(address offers);

    /// @notice No lease has id `leaseId`.
    error UnknownLease(uint32 leaseId);
    /// @notice `caller` may not do this to lease `leaseId`.
    error UnauthorizedCaller(address caller);
    /// @notice Lease `leaseId` is `status`, which does not allow this.
    error InvalidLeaseStatus(uint32 leaseId, LeaseStatus status);
    /// @notice Lease `leaseId` has nothing to settle before `at`.
    error NotDue(uint32 leaseId, uint256 at);
    /// @notice Lease `leaseId` is over already.
    error LeaseOver(uint32 leaseId);
    /// @notice Lease `leaseId` was preempted already; it ends at `endsAt`.
    error AlreadyPreempted(uint32 leaseId, uint256 endsAt);
    /// @notice Lease `leaseId` ends at `end`, within the preemption notice: there is nothing to take back.
    error EndsWithinNotice(uint32 leaseId, uint256 end);
    /// @notice The end terms are out of range (a cancellation fee above 100%).
    error InvalidEndTerms();
    /// @notice Node `nodeId` still holds lease `previous`'s machine, not reported wiped: no tenant gets it so.
    error NodeNotWiped(uint32 nodeId, uint32 previous);
    /// @notice The offer book is connected already.
    error AlreadyConnected();
    /// @notice An address given is the zero address.
    error ZeroAddress();

    constructor(IMarket market_, INodes nodes_, EndTerms memory terms) {
        if (address(market_) == address(0) || address(nodes_) == address(0)) revert ZeroAddress();
        if (terms.cancellationBps > Pricing.BPS) revert InvalidEndTerms();
        market = market_;
        nodes = nodes_;
        provisionGrace = terms.provisionGrace;
        preemptionNotice = terms.preemptionNotice;
        cancellationBps = terms.cancellationBps;
        _deployer = msg.sender;
    }

    /// @notice Connects the offer book, which alone creates leases. Can be done once, by the deployer.
    function connectOffers(IOffers offers_) external {
        if (msg.sender != _deployer) revert UnauthorizedCaller(msg.sender);
        if (address(offers) != address(0)) revert AlreadyConnected();
        if (address(offers_) == address(0)) revert ZeroAddress();
        offers = offers_;
        emit OffersConnected(address(offers_));
    }

    // ---------------------------------------------------------------- made by the offer book

    /// @inheritdoc ILeases
    function createLease(LeaseTerms calldata terms, string calldata image) external returns (uint32 leaseId) {
        if (msg.sender != address(offers)) revert UnauthorizedCaller(msg.sender);
        leaseId = ++_leaseCount;
        _writeNewLease(_leases[leaseId], terms);
        if (terms.replacesLease != 0) _replaces[leaseId] = terms.replacesLease;
        if (terms.start < block.timestamp) _bookedLate[leaseId] = uint32(block.timestamp);
        emit LeaseCreated(
            leaseId,
            terms.buyer,
            terms.nodeId,
            terms.offerId,
            terms.start,
            terms.end,
            terms.cost,
            terms.replacesLease
        );
        if (bytes(image).length != 0) emit LeaseImageSet(leaseId, image);
    }

    // ---------------------------------------------------------------- buyer

    /// @notice Sets the image the agent boots, until the lease is provisioned. Only the buyer.
    /// @dev The image URL is public on chain: it must carry no credentials.
    function setImage(uint32 leaseId, string calldata image) external {
        Lease storage lease = _requireLease(leaseId);
        if (msg.sender != lease.buyer) revert UnauthorizedCaller(msg.sender);
        if (lease.status != LeaseStatus.Pending) revert InvalidLeaseStatus(leaseId, lease.status);
        emit LeaseImageSet(leaseId, image);
    }

    /// @notice Ends the lease early. The buyer pays up to the end of the slice under way and gets the
    /// rest back; before the start, everything but the cancellation fee, which goes to the treasury
    /// (a booking undone for free would let anyone hold slots, or push a dynamic price, at no cost).
    function release(uint32 leaseId) external nonReentrant {
        Lease storage lease = _requireRunning(leaseId);
        address buyer = lease.buyer;
        if (msg.sender != buyer) revert UnauthorizedCaller(msg.sender);
        bool beforeStart = block.timestamp < lease.start;
        uint256 cost = lease.cost;
        _end(leaseId, lease, Settlement.EndReason.Released, block.timestamp);
        if (beforeStart) _payCancellation(leaseId, buyer, market.treasury(), cost);
    }

    // ---------------------------------------------------------------- owner

    /// @notice Takes the node back (e.g. for maintenance), with notice: the lease ends
    /// `preemptionNotice` seconds from now (anyone then settles it) and the buyer pays only for the
    /// time it ran. A lease that would not have started by then is cancelled at once, and the owner
    /// pays the buyer the cancellation fee: backing out of a sale is never free. Only a manager of
    /// the node.
    function preempt(uint32 leaseId) external nonReentrant {
        Lease storage lease = _requireRunning(leaseId);
        if (!nodes.canManage(lease.nodeId, msg.sender)) revert UnauthorizedCaller(msg.sender);
        uint256 noticed = _preemptedUntil[leaseId];
        if (noticed != 0) revert AlreadyPreempted(leaseId, noticed);
        uint256 endsAt = block.timestamp + preemptionNotice;
        if (endsAt <= lease.start) {
            address buyer = lease.buyer;
            uint256 cost = lease.cost;
            uint32 offerId = lease.offerId;
            emit LeasePreempted(leaseId, block.timestamp, msg.sender);
            _end(leaseId, lease, Settlement.EndReason.Preempted, block.timestamp);
            _payCancellation(leaseId, offers.sellerOf(offerId), buyer, cost);
            return;
        }
        if (endsAt >= lease.end) revert EndsWithinNotice(leaseId, lease.end);
        _preemptedUntil[leaseId] = uint32(endsAt);
        emit LeasePreempted(leaseId, endsAt, msg.sender);
    }

    // ---------------------------------------------------------------- agent

    /// @notice Reports the node booted for the lease and where the buyer reaches it. Releases the
    /// lease this one replaces, if any, once this one has started: reported early (a move prepared
    /// ahead, with no gap), the replaced lease runs on until the start, and is then released by
    /// `settle`. Another provider's agent thus cannot end the buyer's running lease early and then
    /// back out of its own before the start.
    function reportProvisioned(uint32 leaseId, string calldata nodeAddress) external nonReentrant {
        Lease storage lease = _requireAgent(leaseId);
        if (lease.status != LeaseStatus.Pending) revert InvalidLeaseStatus(leaseId, lease.status);
        if (block.timestamp >= lease.end) revert LeaseOver(leaseId);
        uint32 previous = _unwiped[lease.nodeId];
        if (previous != 0 && previous != leaseId) revert NodeNotWiped(lease.nodeId, previous);
        _unwiped[lease.nodeId] = leaseId;
        lease.status = LeaseStatus.Active;
        lease.provisionedAt = uint32(block.timestamp);
        _nodeAddresses[leaseId] = nodeAddress;
        emit LeaseProvisioned(leaseId, msg.sender, nodeAddress);

        uint32 replaced = _replaces[leaseId];
        if (replaced != 0 && isReplaceable(replaced, lease.buyer)) {
            if (block.timestamp >= lease.start)
                _end(replaced, _leases[replaced], Settlement.EndReason.Released, block.timestamp);
            else _replacedBy[replaced] = leaseId;
        }
    }

    /// @notice Reports that the node could not be provisioned or kept running; the buyer gets back
    /// every second not delivered.
    function reportFailed(uint32 leaseId, string calldata reason) external nonReentrant {
        Lease storage lease = _requireAgent(leaseId);
        LeaseStatus status = lease.status;
        if (status != LeaseStatus.Pending && status != LeaseStatus.Active) revert InvalidLeaseStatus(leaseId, status);
        if (status == LeaseStatus.Active && block.timestamp >= lease.end) revert LeaseOver(leaseId);
        // The agent may have booted the buyer's image before it failed: the node is wiped before the next lease.
        if (_unwiped[lease.nodeId] == 0) _unwiped[lease.nodeId] = leaseId;
        emit LeaseFailed(leaseId, msg.sender, reason);
        _end(leaseId, lease, Settlement.EndReason.Failed, block.timestamp);
    }

    /// @notice Anchors the hash of the lease's metered usage record, kept by the agent, up to
    /// `meteredUntil`. The record is final once the node is reported wiped.
    function reportUsage(uint32 leaseId, bytes32 recordHash, uint32 meteredUntil) external {
        Lease storage lease = _requireAgent(leaseId);
        if (lease.provisionedAt == 0 || lease.status == LeaseStatus.Cleaned) {
            revert InvalidLeaseStatus(leaseId, lease.status);
        }
        _usageRecords[leaseId] = recordHash;
        emit LeaseUsageReported(leaseId, recordHash, meteredUntil);
    }

    /// @notice Reports the node wiped after the lease ended.
    function reportCleaned(uint32 leaseId) external {
        Lease storage lease = _requireAgent(leaseId);
        if (lease.status != LeaseStatus.Ended) revert InvalidLeaseStatus(leaseId, lease.status);
        lease.status = LeaseStatus.Cleaned;
        if (_unwiped[lease.nodeId] == leaseId) delete _unwiped[lease.nodeId];
        emit LeaseCleaned(leaseId, msg.sender);
    }

    // ---------------------------------------------------------------- anyone

    /// @notice Settles a lease that is due: one that ran to its end; one whose replacement (provisioned
    /// ahead) has started, released as the buyer asked; or one whose agent did not report it
    /// provisioned within `provisionGrace` of its start (the buyer then gets everything back).
    function settle(uint32 leaseId) external nonReentrant {
        Lease storage lease = _requireLive(leaseId);
        uint256 preemptedAt = _preemptedUntil[leaseId];
        if (preemptedAt != 0 && block.timestamp >= preemptedAt) {
            _end(leaseId, lease, Settlement.EndReason.Preempted, preemptedAt);
            return;
        }
        if (lease.status == LeaseStatus.Active) {
            if (block.timestamp < lease.end) {
                Lease storage next = _leases[_replacedBy[leaseId]];
                // Provisioned, and running at its start (or ended only after it).
                bool replaced =
                    next.provisionedAt != 0 &&
                        block.timestamp >= next.start &&
                        (next.endedAt == 0 || next.endedAt >= next.start);
                if (!replaced) revert NotDue(leaseId, lease.end);
                _end(leaseId, lease, Settlement.EndReason.Released, block.timestamp);
                return;
            }
            _end(leaseId, lease, Settlement.EndReason.Expired, block.timestamp);
        } else {
            uint256 deadline = provisionDeadline(leaseId);
            if (block.timestamp < deadline) revert NotDue(leaseId, deadline);
            _end(leaseId, lease, Settlement.EndReason.TimedOut, block.timestamp);
        }
    }

    // ---------------------------------------------------------------- views

    /// @notice When lease `leaseId`'s agent must have reported it provisioned: `provisionGrace` after
    /// its start, or after it was made when it was booked into a slice already under way; never
    /// after its end.
    function provisionDeadline(uint32 leaseId) public view returns (uint256 deadline) {
        Lease storage lease = _leases[leaseId];
        uint256 from = lease.start;
        uint256 bookedAt = _bookedLate[leaseId];
        if (bookedAt > from) from = bookedAt;
        deadline = from + provisionGrace;
        if (deadline > lease.end) deadline = lease.end;
    }

    /// @notice Lease `leaseId`.
    function leaseOf(uint32 leaseId) external view returns (Lease memory) {
        Lease memory lease = _leases[leaseId];
        if (lease.status == LeaseStatus.None) revert UnknownLease(leaseId);
        return lease;
    }

    /// @notice The lease whose machine node `nodeId` still holds, not reported wiped (0: none). No
    /// other lease is provisioned on the node until its agent reports that lease cleaned.
    function unwipedLeaseOf(uint32 nodeId) external view returns (uint32) {
        return _unwiped[nodeId];
    }

    /// @notice A lease's node address, last usage record hash and the lease it replaces. Its image
    /// is in events only (`LeaseImageSet`, else the `BidRevealed` of the bid that won it).
    function detailsOf(
        uint32 leaseId
    ) external view returns (string memory nodeAddress, bytes32 usageRecord, uint32 replacesLease) {
        return (_nodeAddresses[leaseId], _usageRecords[leaseId], _replaces[leaseId]);
    }

    /// @notice How many leases were ever made; ids run from 1 to this.
    function leaseCount() external view returns (uint32) {
        return _leaseCount;
    }

    /// @notice What the seller would be paid and the buyer refunded if the lease ended now for `reason`.
    function previewEnd(
        uint32 leaseId,
        Settlement.EndReason reason
    ) external view returns (uint256 paid, uint256 refund) {
        Lease memory lease = _leases[leaseId];
        (paid, ) = _divide(lease, reason, block.timestamp);
        refund = lease.cost - paid;
    }

    /// @inheritdoc ILeases
    function isReplaceable(uint32 leaseId, address buyer) public view returns (bool) {
        Lease storage lease = _leases[leaseId];
        return
            lease.buyer == buyer &&
            (lease.status == LeaseStatus.Pending || lease.status == LeaseStatus.Active) &&
            block.timestamp < lease.end;
    }

    // ---------------------------------------------------------------- internal

    /// @dev Ends a live lease as of `at` (now, or a preemption's end that has passed): settles its
    /// escrow and frees the node's calendar from the stop on.
    function _end(uint32 leaseId, Lease storage lease, Settlement.EndReason reason, uint256 at) private {
        Lease memory terms = lease;
        (uint256 paid, uint256 stop) = _divide(terms, reason, at);
        uint256 refund = terms.cost - paid;
        lease.status = LeaseStatus.Ended;
        lease.endReason = reason;
        lease.endedAt = uint32(block.timestamp);
        emit LeaseEnded(leaseId, reason, paid, refund, msg.sender);
        if (stop < terms.end) offers.releaseCalendar(terms.offerId, stop, terms.end);
        market.settle(terms.buyer, offers.sellerOf(terms.offerId), paid, refund);
    }

    /// @dev Writes a new Pending lease with one SSTORE per slot; a struct assignment would read both
    /// cold slots first and write field by field. Solidity packs fields from the low-order bits in
    /// declaration order; `leaseOf`'s tests pin the layout.
    function _writeNewLease(Lease storage slot, LeaseTerms calldata terms) private {
        uint256 first =
            uint256(uint160(terms.buyer)) |
                (uint256(terms.nodeId) << 160) |
                (uint256(terms.start) << 192) |
                (uint256(terms.end) << 224);
        uint256 second =
            uint256(terms.cost) |
                (uint256(terms.offerId) << 96) |
                (uint256(terms.sliceSeconds) << 128) |
                (uint256(uint8(LeaseStatus.Pending)) << 160);
        assembly ("memory-safe") {
            sstore(slot.slot, first)
            sstore(add(slot.slot, 1), second)
        }
    }

    function _divide(
        Lease memory lease,
        Settlement.EndReason reason,
        uint256 at
    ) private pure returns (uint256 paid, uint256 stop) {
        return
            Settlement.divide(lease.start, lease.end, lease.sliceSeconds, lease.cost, lease.provisionedAt, reason, at);
    }

    /// @dev Charges the cancellation fee of lease `leaseId` (of cost `cost`) from `payer` to `payee`.
    function _payCancellation(uint32 leaseId, address payer, address payee, uint256 cost) private {
        uint256 fee = Settlement.cancellationFee(cost, cancellationBps);
        if (fee == 0) return;
        emit CancellationFeePaid(leaseId, payer, payee, fee);
        market.pay(payer, payee, fee);
    }

    function _requireLease(uint32 leaseId) private view returns (Lease storage lease) {
        lease = _leases[leaseId];
        if (lease.status == LeaseStatus.None) revert UnknownLease(leaseId);
    }

    function _requireLive(uint32 leaseId) private view returns (Lease storage lease) {
        lease = _requireLease(leaseId);
        if (lease.status != LeaseStatus.Pending && lease.status != LeaseStatus.Active) {
            revert InvalidLeaseStatus(leaseId, lease.status);
        }
    }

    /// @dev A live lease whose end has not come; one past its end is settled with `settle`.
    function _requireRunning(uint32 leaseId) private view returns (Lease storage lease) {
        lease = _requireLive(leaseId);
        if (block.timestamp >= lease.end) revert LeaseOver(leaseId);
    }

    function _requireAgent(uint32 leaseId) private view returns (Lease storage lease) {
        lease = _requireLease(leaseId);
        if (msg.sender != nodes.agentOf(lease.nodeId)) revert UnauthorizedCaller(msg.sender);
    }
}
