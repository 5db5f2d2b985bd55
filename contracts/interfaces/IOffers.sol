// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title OfferLimits
/// @notice Limits of the offer book that the auction shares.
library OfferLimits {
    /// @notice The shortest slice, in seconds: no bid shorter than this can ever be matched.
    uint32 internal constant MIN_SLICE_SECONDS = 5;
}

/// @title IOffers
/// @notice What the Market's clearing and the Leases contract need from the offer book.
interface IOffers {
    /// @notice What a sealed bid says, hidden until its reveal: a price per hour for `duration`
    /// seconds from `start`, in round `roundId`. `offerId == 0` makes it a pool bid: any auction
    /// offer of the round whose node fits profile `profileId` (0: any node). `replacesLease` names a
    /// lease of the bidder's to release once the new one is provisioned, or 0.
    struct BidTerms {
        uint32 roundId;
        uint32 offerId;
        uint16 profileId;
        uint32 start;
        uint32 duration;
        uint64 pricePerHour;
        uint32 replacesLease;
    }

    /// @notice A revealed bid, as handed to matching. The image its lease boots is in its
    /// `BidRevealed` event, not in storage: the lease is complete from its creation on.
    struct BidRequest {
        BidTerms terms;
        address buyer;
        /// @dev The bid's id in its round: where a pool bid starts its search among the offers.
        uint32 bidId;
    }

    /// @notice Matches one bid against the round's auction offers, booking the node and creating the
    /// lease when an offer fits. Returns `leaseId == 0` when nothing fits; never reverts on bid data.
    function matchBid(BidRequest calldata bid) external returns (uint32 leaseId, uint256 cost);

    /// @notice Gives the node's time `[from, to)` of an ended lease back to offer `offerId`'s calendar.
    function releaseCalendar(uint32 offerId, uint256 from, uint256 to) external;

    /// @notice The account paid for leases sold through offer `offerId`.
    function sellerOf(uint32 offerId) external view returns (address);

    /// @notice A round not yet cleared that holds an auction offer of node `nodeId` (0: none). Until
    /// it clears, the node stays in the market as listed: a seller cannot back out after the bids open.
    function roundHoldingNode(uint32 nodeId) external view returns (uint32);

    /// @notice A round not yet cleared that holds an auction offer of `seller` (0: none). Until it
    /// clears, the seller stays a provider of its tenant.
    function roundHoldingSeller(address seller) external view returns (uint32);
}
