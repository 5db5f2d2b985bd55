// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Pricing
/// @notice The market's price arithmetic. Prices are quoted in credit base units per hour; a
/// lease costs `pricePerHour * seconds / 3600`, rounded down, so nobody pays more than quoted.
library Pricing {
    uint256 internal constant SECONDS_PER_HOUR = 3600;
    uint256 internal constant BPS = 10_000;

    /// @dev The cost of `duration` seconds at `pricePerHour`, rounded down.
    function cost(uint256 pricePerHour, uint256 duration) internal pure returns (uint256) {
        return (pricePerHour * duration) / SECONDS_PER_HOUR;
    }

    /// @dev Posted price of a dynamic offer: the base price raised linearly with the share of the
    /// offer's slices that are booked, up to `base * (1 + surgeBps / 10000)` when fully booked.
    /// Deterministic, monotonic in demand, and capped.
    function dynamicPrice(
        uint256 base,
        uint256 surgeBps,
        uint256 booked,
        uint256 capacity
    ) internal pure returns (uint256) {
        if (capacity == 0) return base;
        uint256 sold = booked < capacity ? booked : capacity;
        return base + (base * surgeBps * sold) / (BPS * capacity);
    }

    /// @dev `cost * part / whole`, rounded down; the seller's share of an escrow for time delivered.
    function share(uint256 total, uint256 part, uint256 whole) internal pure returns (uint256) {
        if (whole == 0) return 0;
        return (total * part) / whole;
    }
}
