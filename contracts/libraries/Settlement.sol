// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Pricing} from "./Pricing.sol";

/// @title Settlement
/// @notice How a lease's escrow divides when it ends. The seller is paid for the seconds the node
/// was delivered (from provisioning, never before the lease's start); the buyer gets the rest back.
/// A buyer who releases early pays up to the end of the slice under way; an end the buyer did not
/// choose (preemption, failure, timeout) stops the clock at once.
library Settlement {
    /// @notice How a lease ended.
    enum EndReason {
        None,
        Expired,
        Released,
        Preempted,
        Failed,
        TimedOut
    }

    /// @dev The delivered time's share of `cost`, and the moment the node's calendar frees up.
    /// @param provisionedAt When the agent reported the node provisioned; 0 if it never did.
    /// @param at When the lease ends (for `Expired`: ignored, the lease's end).
    function divide(
        uint256 start,
        uint256 end,
        uint256 sliceSeconds,
        uint256 cost,
        uint256 provisionedAt,
        EndReason reason,
        uint256 at
    ) internal pure returns (uint256 paid, uint256 stop) {
        if (reason == EndReason.Expired || at >= end) {
            stop = end;
        } else if (at <= start) {
            stop = start;
        } else if (reason == EndReason.Released) {
            uint256 slicesStarted = (at - start + sliceSeconds - 1) / sliceSeconds;
            stop = start + slicesStarted * sliceSeconds;
            if (stop > end) stop = end;
        } else {
            stop = at;
        }
        if (provisionedAt == 0) return (0, stop);
        uint256 deliveredFrom = provisionedAt > start ? provisionedAt : start;
        if (stop <= deliveredFrom) return (0, stop);
        paid = Pricing.share(cost, stop - deliveredFrom, end - start);
    }

    /// @dev What backing out of a lease before its start costs: `bps` of its cost, rounded down.
    /// The buyer who releases pays it to the treasury; the owner who preempts pays it to the buyer.
    function cancellationFee(uint256 cost, uint256 bps) internal pure returns (uint256) {
        return (cost * bps) / Pricing.BPS;
    }
}
