// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {NodeCalendar} from "../../contracts/libraries/NodeCalendar.sol";
import {Bounds} from "./Bounds.sol";

contract NodeCalendarTest is Bounds {
    using NodeCalendar for NodeCalendar.Calendar;

    uint256 private constant MAX_SPAN = 2048;
    NodeCalendar.Calendar private calendar;

    function testFuzz_MaskHasExactlyTheRangesBits(uint256 word, uint256 from, uint256 span) public pure {
        word = bound(word, 0, 1000);
        from = bound(from, word * 256 > 300 ? word * 256 - 300 : 0, word * 256 + 300);
        span = bound(span, 1, 600);
        uint256 to = from + span;
        uint256 mask = NodeCalendar.mask(word, from, to);
        for (uint256 bit; bit < 256; ++bit) {
            uint256 unit = word * 256 + bit;
            bool inRange = unit >= from && unit < to;
            require(((mask >> bit) & 1 == 1) == inRange, "mask bit differs from the range");
        }
    }

    function testFuzz_BookedRangeIsNeverFreeAgainUntilReleased(uint256 from, uint256 span, uint256 probe) public {
        from = bound(from, 0, type(uint32).max);
        span = bound(span, 1, MAX_SPAN);
        uint256 to = from + span;
        require(calendar.tryBook(from, to), "an empty calendar refused a booking");
        probe = bound(probe, from, to - 1);
        require(!calendar.isFree(probe, probe + 1), "a booked unit reads free");
        require(!calendar.tryBook(probe, probe + 1), "a booked unit was booked twice");
        if (from > 0) require(calendar.isFree(from - 1, from), "the unit before the booking got booked");
        require(calendar.isFree(to, to + 1), "the unit after the booking got booked");
        calendar.release(from, to);
        require(calendar.isFree(from, to), "released units read booked");
    }

    function testFuzz_OverlappingBookingLeavesTheFirstUntouched(
        uint256 from,
        uint256 span,
        uint256 shift,
        uint256 span2
    ) public {
        from = bound(from, MAX_SPAN, type(uint32).max);
        span = bound(span, 1, MAX_SPAN);
        span2 = bound(span2, 1, MAX_SPAN);
        shift = bound(shift, 0, span + span2 - 2);
        uint256 from2 = from + shift - (span2 - 1);
        require(calendar.tryBook(from, from + span), "first booking refused");
        require(!calendar.tryBook(from2, from2 + span2), "overlapping booking accepted");
        require(!calendar.isFree(from, from + span) && calendar.isFree(from + span, from + span + 1), "state changed");
        if (from2 < from) require(calendar.isFree(from2, from), "refused booking wrote its head");
    }

    function testFuzz_AdjacentBookingsBothSucceed(uint256 from, uint256 span, uint256 span2) public {
        from = bound(from, 0, type(uint32).max);
        span = bound(span, 1, MAX_SPAN);
        span2 = bound(span2, 1, MAX_SPAN);
        require(calendar.tryBook(from, from + span), "first refused");
        require(calendar.tryBook(from + span, from + span + span2), "adjacent refused");
    }
}
