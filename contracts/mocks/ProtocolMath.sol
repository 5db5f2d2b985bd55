// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {DailyWindow} from "../libraries/DailyWindow.sol";
import {Pricing} from "../libraries/Pricing.sol";
import {Settlement} from "../libraries/Settlement.sol";

/// @title ProtocolMath
/// @notice TEST HARNESS ONLY. The market's arithmetic libraries as external calls, so that the
/// SDK's TypeScript of the same rules (`sdk/protocol.ts`) can be checked against them on random
/// inputs. Never deployed with the market.
contract ProtocolMath {
    /// @notice `Pricing.cost`.
    function cost(uint256 pricePerHour, uint256 duration) external pure returns (uint256) {
        return Pricing.cost(pricePerHour, duration);
    }

    /// @notice `Pricing.dynamicPrice`.
    function dynamicPrice(
        uint256 base,
        uint256 surgeBps,
        uint256 booked,
        uint256 capacity
    ) external pure returns (uint256) {
        return Pricing.dynamicPrice(base, surgeBps, booked, capacity);
    }

    /// @notice `Pricing.share`.
    function share(uint256 total, uint256 part, uint256 whole) external pure returns (uint256) {
        return Pricing.share(total, part, whole);
    }

    /// @notice `DailyWindow.contains`.
    function contains(uint256 fromHour, uint256 toHour, uint256 start, uint256 end) external pure returns (bool) {
        return DailyWindow.contains(fromHour, toHour, start, end);
    }

    /// @notice `Settlement.divide`.
    function divide(
        uint256 start,
        uint256 end,
        uint256 sliceSeconds,
        uint256 leaseCost,
        uint256 provisionedAt,
        Settlement.EndReason reason,
        uint256 at
    ) external pure returns (uint256 paid, uint256 stop) {
        return Settlement.divide(start, end, sliceSeconds, leaseCost, provisionedAt, reason, at);
    }

    /// @notice `Settlement.cancellationFee`.
    function cancellationFee(uint256 leaseCost, uint256 bps) external pure returns (uint256) {
        return Settlement.cancellationFee(leaseCost, bps);
    }
}
