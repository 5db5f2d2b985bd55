// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantCredits
/// @notice TEST ONLY. A hostile credits token: while the market pays credits out, it calls back
/// into the market to withdraw again, as a malicious token or receiver hook would.
contract ReentrantCredits is ERC20 {
    /// @notice The market to attack; set by the test.
    address public victim;
    /// @notice The call the token makes back into the market during a payout.
    bytes public attack;
    /// @notice Whether the callback reverted, and with what.
    bytes public callbackRevert;

    constructor() ERC20("Hostile Credit", "HOST") {}

    /// @notice Mints freely: this token exists only to attack the market in tests.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the attack: during the next payout, `victim` is called with `data`.
    function arm(address victim_, bytes calldata data) external {
        victim = victim_;
        attack = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address market = victim;
        if (from == market && market != address(0)) {
            victim = address(0);
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory reason) = market.call(attack);
            if (!ok) callbackRevert = reason;
        }
    }
}
