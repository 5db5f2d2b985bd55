// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {CreditAccounts} from "./CreditAccounts.sol";
import {SealedBidAuction} from "./SealedBidAuction.sol";

/// @title Market
/// @notice The market's accounts and its sealed-bid auction: tenants and members, credits held in
/// the market, and the commit, reveal and clearing of bids. These share one contract because a
/// commit must check the member, escrow its deposit and store its seal within a tight gas budget.
contract Market is SealedBidAuction {
    /// @param credits_ The credits token.
    /// @param admin Operator account: gets the admin and operator roles.
    /// @param treasury_ Account that receives penalties of unrevealed bids.
    /// @param schedule Round schedule and penalty.
    constructor(
        IERC20 credits_,
        address admin,
        address treasury_,
        AuctionSchedule memory schedule
    ) CreditAccounts(credits_, treasury_) SealedBidAuction(schedule) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, admin);
    }
}
