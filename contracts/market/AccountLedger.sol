// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title AccountLedger
/// @notice Market accounts: who an account is (tenant, roles) and what it holds (available and
/// escrowed credits), kept in one storage slot so that the hot paths read and write it once.
abstract contract AccountLedger {
    using SafeCast for uint256;

    /// @dev Packed into one slot: 96 + 96 + 32 + 8 bits.
    struct Account {
        uint96 available;
        uint96 escrowed;
        uint32 tenantId;
        uint8 roles;
    }

    mapping(address account => Account) internal _accounts;

    /// @notice `account` has `available` credits free but the action needs `needed`.
    error InsufficientCredits(address account, uint256 available, uint256 needed);
    /// @notice `account` has `escrowed` credits in escrow but the settlement needs `needed`.
    error InsufficientEscrow(address account, uint256 escrowed, uint256 needed);

    /// @dev Moves `amount` from available to escrowed.
    function _lock(Account storage account, address owner, uint256 amount) internal {
        uint256 available = account.available;
        if (available < amount) revert InsufficientCredits(owner, available, amount);
        account.available = uint96(available - amount);
        account.escrowed = (account.escrowed + amount).toUint96();
    }

    /// @dev Takes `amount` out of escrow; the caller says where it goes.
    function _unlock(Account storage account, address owner, uint256 amount) internal {
        uint256 escrowed = account.escrowed;
        if (escrowed < amount) revert InsufficientEscrow(owner, escrowed, amount);
        account.escrowed = uint96(escrowed - amount);
    }

    /// @dev Adds `amount` to available credits.
    function _credit(Account storage account, uint256 amount) internal {
        account.available = (account.available + amount).toUint96();
    }
}
