// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @dev Maps fuzzer input into a range, without cheatcodes (no forge-std here).
abstract contract Bounds {
    function bound(uint256 value, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + (value % (max - min + 1));
    }
}
