// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ILeases
/// @notice What the offer book needs from the lease registry.
interface ILeases {
    /// @notice The terms of a new lease. The buyer's `cost` is already in escrow.
    struct LeaseTerms {
        address buyer;
        uint32 nodeId;
        uint32 offerId;
        uint32 start;
        uint32 end;
        uint32 sliceSeconds;
        uint96 cost;
        uint32 replacesLease;
    }

    /// @notice Records a new lease; only the offer book may call it.
    function createLease(LeaseTerms calldata terms, string calldata image) external returns (uint32 leaseId);

    /// @notice True when `buyer` holds lease `leaseId` and it has not ended, so a new lease may replace it.
    function isReplaceable(uint32 leaseId, address buyer) external view returns (bool);
}
