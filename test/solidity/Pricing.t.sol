// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Pricing} from "../../contracts/libraries/Pricing.sol";
import {Bounds} from "./Bounds.sol";

contract PricingTest is Bounds {
    function testFuzz_DynamicPriceStaysBetweenBaseAndCap(
        uint256 base,
        uint256 surge,
        uint256 booked,
        uint256 capacity
    ) public pure {
        base = bound(base, 1, type(uint64).max);
        surge = bound(surge, 0, 50_000);
        capacity = bound(capacity, 1, 1e6);
        booked = bound(booked, 0, 2e6);
        uint256 price = Pricing.dynamicPrice(base, surge, booked, capacity);
        require(price >= base, "below base");
        require(price <= base + (base * surge) / Pricing.BPS, "above cap");
        if (booked < capacity) {
            require(Pricing.dynamicPrice(base, surge, booked + 1, capacity) >= price, "not monotonic in demand");
        }
        if (booked >= capacity) require(price == base + (base * surge) / Pricing.BPS, "full offer not at cap");
    }

    function testFuzz_CostNeverExceedsExactPrice(uint256 price, uint256 duration) public pure {
        price = bound(price, 0, type(uint64).max);
        duration = bound(duration, 0, type(uint32).max);
        uint256 paid = Pricing.cost(price, duration);
        require(paid * 3600 <= price * duration && (paid + 1) * 3600 > price * duration, "not rounded down");
    }
}
