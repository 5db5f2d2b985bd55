// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title MemberRoles
/// @notice Roles a member holds inside its tenant, as bits of one byte.
library MemberRoles {
    uint8 internal constant TENANT_ADMIN = 1;
    uint8 internal constant BUYER = 2;
    uint8 internal constant PROVIDER = 4;
    uint8 internal constant ALL = TENANT_ADMIN | BUYER | PROVIDER;
}

/// @title IMemberDirectory
/// @notice Who may act in the market: tenants, their members and the members' roles.
interface IMemberDirectory {
    /// @notice True when `account` belongs to an active tenant and holds every bit of `roles`.
    function isActiveMember(address account, uint8 roles) external view returns (bool);

    /// @notice The tenant `account` belongs to (0 for none) and its roles there.
    function memberOf(address account) external view returns (uint32 tenantId, uint8 roles);

    /// @notice True when the tenant exists and is neither suspended nor deleted.
    function isActiveTenant(uint32 tenantId) external view returns (bool);

    /// @notice True when `account` belongs to `tenantId`, that tenant is active, and `account` holds
    /// at least one bit of `anyOfRoles`.
    function isActiveMemberOf(address account, uint32 tenantId, uint8 anyOfRoles) external view returns (bool);

    /// @notice True when `account` is the marketplace's operator.
    function isOperator(address account) external view returns (bool);
}

/// @title ICreditLedger
/// @notice The market's credit accounts, as seen by the contracts that book leases and settle them.
interface ICreditLedger {
    /// @notice Moves `amount` of `account`'s available credits into escrow.
    function escrow(address account, uint256 amount) external;

    /// @notice Settles escrow of `buyer`: `paid` goes to `seller`, `refund` back to the buyer.
    function settle(address buyer, address seller, uint256 paid, uint256 refund) external;

    /// @notice Moves `amount` of `from`'s available credits to `to` (a cancellation fee).
    function pay(address from, address to, uint256 amount) external;

    /// @notice The account that receives penalties and the fees of buyers' cancellations.
    function treasury() external view returns (address);
}

/// @title IAuctionClock
/// @notice The schedule of sealed-bid rounds.
interface IAuctionClock {
    /// @notice The round whose commit phase is running now.
    function currentRound() external view returns (uint32);

    /// @notice The reveal phase `[opensAt, closesAt)` of `roundId`; clearing may start at `closesAt`.
    function revealWindow(uint32 roundId) external view returns (uint256 opensAt, uint256 closesAt);

    /// @notice True when every revealed bid of `roundId` has been matched or refunded (or the reveal
    /// window closed without any).
    function isRoundCleared(uint32 roundId) external view returns (bool);
}

/// @title IMarketContracts
/// @notice Where the Market finds the offer book, for the contracts deployed before it.
interface IMarketContracts {
    /// @notice The Offers contract (the zero address until connected).
    function offers() external view returns (address);
}

/// @title IMarket
/// @notice Everything the other market contracts need from the Market.
// solhint-disable-next-line no-empty-blocks
interface IMarket is IMemberDirectory, ICreditLedger, IAuctionClock, IMarketContracts {}
