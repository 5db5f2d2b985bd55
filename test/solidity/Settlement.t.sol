// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Settlement} from "../../contracts/libraries/Settlement.sol";
import {Bounds} from "./Bounds.sol";

contract SettlementTest is Bounds {
    struct Case {
        uint256 start;
        uint256 end;
        uint256 slice;
        uint256 cost;
        uint256 provisionedAt;
    }

    function make(
        uint256 seed,
        uint256 slices,
        uint256 cost,
        uint256 provisionDelay
    ) private pure returns (Case memory c) {
        c.slice = bound(seed, 1, 120) * 60;
        c.start = 1_700_000_000 + (seed % 1000) * c.slice;
        c.end = c.start + bound(slices, 1, 48) * c.slice;
        c.cost = bound(cost, 0, 1e15);
        c.provisionedAt = provisionDelay % 3 == 0 ? 0 : c.start + bound(provisionDelay, 0, c.end - c.start);
    }

    function divide(
        Case memory c,
        Settlement.EndReason reason,
        uint256 at
    ) private pure returns (uint256 paid, uint256 stop) {
        return Settlement.divide(c.start, c.end, c.slice, c.cost, c.provisionedAt, reason, at);
    }

    function testFuzz_NeverPaysMoreThanTheEscrow(
        uint256 seed,
        uint256 slices,
        uint256 cost,
        uint256 delay,
        uint256 at,
        uint8 reason
    ) public pure {
        Case memory c = make(seed, slices, cost, delay);
        Settlement.EndReason why = Settlement.EndReason(bound(reason, 1, 5));
        at = bound(at, c.start > 1 days ? c.start - 1 days : 0, c.end + 1 days);
        (uint256 paid, uint256 stop) = divide(c, why, at);
        require(paid <= c.cost, "paid more than the escrow");
        require(stop >= c.start && stop <= c.end, "stop outside the lease");
        if (c.provisionedAt == 0) require(paid == 0, "paid for a node never provisioned");
    }

    function testFuzz_ReleaseChargesUpToTheSliceUnderWay(
        uint256 seed,
        uint256 slices,
        uint256 cost,
        uint256 at
    ) public pure {
        Case memory c = make(seed, slices, cost, 1);
        c.provisionedAt = c.start;
        at = bound(at, c.start + 1, c.end - 1);
        (uint256 paid, uint256 stop) = divide(c, Settlement.EndReason.Released, at);
        require((stop - c.start) % c.slice == 0, "release did not stop on a slice boundary");
        require(stop >= at && stop - at < c.slice, "release stopped outside the slice under way");
        require(paid == (c.cost * (stop - c.start)) / (c.end - c.start), "release charged something else");
    }

    function testFuzz_PreemptionPaysOnlySecondsDelivered(
        uint256 seed,
        uint256 slices,
        uint256 cost,
        uint256 at,
        uint256 later
    ) public pure {
        Case memory c = make(seed, slices, cost, 1);
        c.provisionedAt = c.start;
        at = bound(at, c.start, c.end);
        later = bound(later, at, c.end);
        (uint256 paidAt, ) = divide(c, Settlement.EndReason.Preempted, at);
        (uint256 paidLater, ) = divide(c, Settlement.EndReason.Preempted, later);
        require(paidAt == (c.cost * (at - c.start)) / (c.end - c.start), "preemption charged something else");
        require(paidLater >= paidAt, "later preemption paid less");
    }

    function testFuzz_ExpiryPaysFromProvisioning(
        uint256 seed,
        uint256 slices,
        uint256 cost,
        uint256 delay
    ) public pure {
        Case memory c = make(seed, slices, cost, delay);
        if (c.provisionedAt == 0) return;
        (uint256 paid, ) = divide(c, Settlement.EndReason.Expired, c.end);
        require(paid == (c.cost * (c.end - c.provisionedAt)) / (c.end - c.start), "expiry charged something else");
    }
}
