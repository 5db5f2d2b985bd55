// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {DailyWindow} from "../../contracts/libraries/DailyWindow.sol";
import {Bounds} from "./Bounds.sol";

contract DailyWindowTest is Bounds {
    uint256 private constant HOUR = 3600;

    /// @dev Reference: every hour the booking touches is an allowed hour of the day.
    function naive(uint256 fromHour, uint256 toHour, uint256 start, uint256 end) private pure returns (bool) {
        if (fromHour == toHour) return true;
        for (uint256 hourIndex = start / HOUR; hourIndex <= (end - 1) / HOUR; ++hourIndex) {
            uint256 hourOfDay = hourIndex % 24;
            bool allowed =
                fromHour < toHour
                    ? hourOfDay >= fromHour && hourOfDay < toHour
                    : hourOfDay >= fromHour || hourOfDay < toHour;
            if (!allowed) return false;
        }
        return true;
    }

    function testFuzz_AgreesWithHourByHourCheck(
        uint256 fromHour,
        uint256 toHour,
        uint256 start,
        uint256 duration
    ) public pure {
        fromHour = bound(fromHour, 0, 23);
        toHour = bound(toHour, 0, 23);
        start = (bound(start, 1 days, type(uint32).max) / 60) * 60;
        duration = bound(duration, 1, 50) * 15 minutes;
        require(
            DailyWindow.contains(fromHour, toHour, start, start + duration) ==
                naive(fromHour, toHour, start, start + duration),
            "disagrees with the hour-by-hour check"
        );
    }

    function test_OffPeakWrapsMidnight() public pure {
        uint256 day = 20_000 days;
        require(DailyWindow.contains(22, 6, day + 22 hours, day + 30 hours), "22:00 to 06:00 refused");
        require(DailyWindow.contains(22, 6, day + 2 hours, day + 5 hours), "02:00 to 05:00 refused");
        require(!DailyWindow.contains(22, 6, day + 5 hours, day + 7 hours), "05:00 to 07:00 accepted");
        require(!DailyWindow.contains(22, 6, day + 12 hours, day + 13 hours), "noon accepted");
    }
}
