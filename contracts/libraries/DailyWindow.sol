// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title DailyWindow
/// @notice An offer's hours-of-day constraint (UTC), e.g. 22 to 6 for off-peak selling.
/// `fromHour == toHour` means no constraint; `fromHour > toHour` wraps past midnight.
library DailyWindow {
    uint256 internal constant SECONDS_PER_HOUR = 3600;
    uint256 internal constant SECONDS_PER_DAY = 86_400;
    uint256 internal constant HOURS_PER_DAY = 24;

    /// @dev True when all of `[start, end)` lies inside one allowed daily window.
    function contains(uint256 fromHour, uint256 toHour, uint256 start, uint256 end) internal pure returns (bool) {
        if (fromHour == toHour) return true;
        uint256 day = start - (start % SECONDS_PER_DAY);
        uint256 opensAt = day + fromHour * SECONDS_PER_HOUR;
        uint256 closesAt;
        if (fromHour < toHour) {
            closesAt = day + toHour * SECONDS_PER_HOUR;
        } else if (start >= opensAt) {
            closesAt = day + SECONDS_PER_DAY + toHour * SECONDS_PER_HOUR;
        } else {
            // Inside the part of yesterday's window that runs past midnight.
            closesAt = day + toHour * SECONDS_PER_HOUR;
            opensAt = day;
        }
        return start >= opensAt && end <= closesAt;
    }

    /// @dev True when both hours are valid hours of a day.
    function isValid(uint256 fromHour, uint256 toHour) internal pure returns (bool) {
        return fromHour < HOURS_PER_DAY && toHour < HOURS_PER_DAY;
    }
}
