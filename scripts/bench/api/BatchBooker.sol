// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title BatchBooker
/// @notice BENCHMARK ONLY, never deployed with the market. An account that makes many calls to one
/// contract in one transaction, as itself: a seed buyer books a slice on every node at once, so that
/// `npm run bench:api` fills a read model with a million events in minutes rather than hours.
contract BatchBooker {
    /// @notice Calls `target` with each of `calls` in turn; a failing call reverts the whole batch
    /// with its own reason.
    function run(address target, bytes[] calldata calls) external {
        for (uint256 i = 0; i < calls.length; ++i) {
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory reason) = target.call(calls[i]);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(reason, 32), mload(reason))
                }
            }
        }
    }
}
