// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title NodeCalendar
/// @notice One bitmap per node: bit `i` is set while the node's calendar unit `i` (seconds
/// `[i * unit, (i + 1) * unit)` since the epoch) is booked. Every price model books through the
/// same bitmap, so a node can never be sold twice for overlapping time.
/// @dev A booking touches `duration / (256 * unit) + 1` words, so its gas is bounded by the offer's
/// maximum lease length, checked when the offer is listed.
library NodeCalendar {
    uint256 private constant WORD_SHIFT = 8;
    uint256 private constant WORD_BITS = 256;

    struct Calendar {
        mapping(uint256 wordIndex => uint256 bits) words;
    }

    /// @dev True when no unit in `[fromUnit, toUnit)` is booked. Requires `fromUnit < toUnit`.
    function isFree(Calendar storage calendar, uint256 fromUnit, uint256 toUnit) internal view returns (bool) {
        uint256 lastWord = (toUnit - 1) >> WORD_SHIFT;
        for (uint256 word = fromUnit >> WORD_SHIFT; word <= lastWord; ++word) {
            if (calendar.words[word] & mask(word, fromUnit, toUnit) != 0) return false;
        }
        return true;
    }

    /// @dev Books `[fromUnit, toUnit)` when all of it is free; returns false (and writes nothing) otherwise.
    function tryBook(Calendar storage calendar, uint256 fromUnit, uint256 toUnit) internal returns (bool) {
        if (!isFree(calendar, fromUnit, toUnit)) return false;
        uint256 lastWord = (toUnit - 1) >> WORD_SHIFT;
        for (uint256 word = fromUnit >> WORD_SHIFT; word <= lastWord; ++word) {
            calendar.words[word] |= mask(word, fromUnit, toUnit);
        }
        return true;
    }

    /// @dev Clears `[fromUnit, toUnit)`; a no-op when the range is empty.
    function release(Calendar storage calendar, uint256 fromUnit, uint256 toUnit) internal {
        if (fromUnit >= toUnit) return;
        uint256 lastWord = (toUnit - 1) >> WORD_SHIFT;
        for (uint256 word = fromUnit >> WORD_SHIFT; word <= lastWord; ++word) {
            calendar.words[word] &= ~mask(word, fromUnit, toUnit);
        }
    }

    /// @dev The bits of word `word` that fall inside `[fromUnit, toUnit)`; 0 when none do.
    function mask(uint256 word, uint256 fromUnit, uint256 toUnit) internal pure returns (uint256) {
        uint256 first = word << WORD_SHIFT;
        if (toUnit <= first || fromUnit >= first + WORD_BITS) return 0;
        uint256 low = fromUnit > first ? fromUnit - first : 0;
        uint256 high = toUnit < first + WORD_BITS ? toUnit - first : WORD_BITS;
        uint256 upTo = high == WORD_BITS ? type(uint256).max : (uint256(1) << high) - 1;
        return upTo & ~((uint256(1) << low) - 1);
    }
}
