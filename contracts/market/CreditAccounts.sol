// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC1363Receiver} from "@openzeppelin/contracts/interfaces/IERC1363Receiver.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ICreditLedger} from "../interfaces/IMarket.sol";
import {AccountLedger} from "./AccountLedger.sol";

/// @title CreditAccounts
/// @notice Credits held by the market: an account deposits credits (ERC-20) to bid and book, the
/// market escrows them while a bid or lease is open, and the account withdraws what is available.
/// Conservation: the market's credit balance always equals the sum of available plus escrowed.
abstract contract CreditAccounts is AccessControl, ReentrancyGuard, AccountLedger, ICreditLedger, IERC1363Receiver {
    using SafeERC20 for IERC20;

    /// @notice The credits token.
    IERC20 public immutable credits;
    /// @notice Account that receives the penalties of unrevealed bids.
    address public treasury;
    /// @notice The offer book, which escrows instant bookings and matches bids; set once.
    address public offers;
    /// @notice The lease registry, which settles escrow; set once.
    address public leases;

    /// @notice `account` moved `amount` credits from its wallet into the market.
    event CreditsDeposited(address indexed account, uint256 amount);
    /// @notice `account` moved `amount` available credits back to its wallet.
    event CreditsWithdrawn(address indexed account, uint256 amount);
    /// @notice `amount` of `account`'s available credits went into escrow for a booking.
    event CreditsEscrowed(address indexed account, uint256 amount);
    /// @notice A lease's escrow was settled: `paid` to the seller, `refund` back to the buyer.
    event EscrowSettled(address indexed buyer, address indexed seller, uint256 paid, uint256 refund);
    /// @notice `amount` of `from`'s available credits went to `to`: a fee for backing out of a lease.
    event CreditsPaid(address indexed from, address indexed to, uint256 amount);
    /// @notice The treasury became `treasury`.
    event TreasuryChanged(address indexed treasury, address by);
    /// @notice The market was wired to its offer book and lease registry.
    event ContractsConnected(address offers, address leases);

    /// @notice Amounts must be positive.
    error ZeroAmount();
    /// @notice Only `expected` may call this.
    error UnauthorizedCaller(address caller);
    /// @notice The market is wired already.
    error AlreadyConnected();
    /// @notice An address given is the zero address.
    error ZeroAddress();

    constructor(IERC20 credits_, address treasury_) {
        if (address(credits_) == address(0) || treasury_ == address(0)) revert ZeroAddress();
        credits = credits_;
        treasury = treasury_;
        emit TreasuryChanged(treasury_, msg.sender);
    }

    // ---------------------------------------------------------------- wallet side

    /// @notice Moves `amount` credits from the caller's wallet into its market account.
    /// @dev Needs an ERC-20 allowance; `credits.transferAndCall(market, amount)` does it in one step.
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _credit(_accounts[msg.sender], amount);
        emit CreditsDeposited(msg.sender, amount);
        credits.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice ERC-1363 hook: credits sent with `transferAndCall` land in the sender's market account.
    function onTransferReceived(address, address from, uint256 value, bytes calldata) external returns (bytes4) {
        if (msg.sender != address(credits)) revert UnauthorizedCaller(msg.sender);
        if (value == 0) revert ZeroAmount();
        _credit(_accounts[from], value);
        emit CreditsDeposited(from, value);
        return IERC1363Receiver.onTransferReceived.selector;
    }

    /// @notice Moves `amount` available credits back to the caller's wallet. Needs no membership:
    /// an account removed from its tenant keeps its credits.
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Account storage account = _accounts[msg.sender];
        uint256 available = account.available;
        if (available < amount) revert InsufficientCredits(msg.sender, available, amount);
        account.available = uint96(available - amount);
        emit CreditsWithdrawn(msg.sender, amount);
        credits.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- ledger for the market's contracts

    /// @inheritdoc ICreditLedger
    function escrow(address account, uint256 amount) external {
        if (msg.sender != offers) revert UnauthorizedCaller(msg.sender);
        _lock(_accounts[account], account, amount);
        emit CreditsEscrowed(account, amount);
    }

    /// @inheritdoc ICreditLedger
    function settle(address buyer, address seller, uint256 paid, uint256 refund) external {
        if (msg.sender != leases) revert UnauthorizedCaller(msg.sender);
        Account storage buyerAccount = _accounts[buyer];
        _unlock(buyerAccount, buyer, paid + refund);
        _credit(buyerAccount, refund);
        _credit(_accounts[seller], paid);
        emit EscrowSettled(buyer, seller, paid, refund);
    }

    /// @inheritdoc ICreditLedger
    function pay(address from, address to, uint256 amount) external {
        if (msg.sender != leases) revert UnauthorizedCaller(msg.sender);
        Account storage payer = _accounts[from];
        uint256 available = payer.available;
        if (available < amount) revert InsufficientCredits(from, available, amount);
        payer.available = uint96(available - amount);
        _credit(_accounts[to], amount);
        emit CreditsPaid(from, to, amount);
    }

    // ---------------------------------------------------------------- administration

    /// @notice Wires the market to its offer book and lease registry. Can be done once.
    function connectContracts(address offers_, address leases_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (offers != address(0)) revert AlreadyConnected();
        if (offers_ == address(0) || leases_ == address(0)) revert ZeroAddress();
        offers = offers_;
        leases = leases_;
        emit ContractsConnected(offers_, leases_);
    }

    /// @notice Sets the account that receives penalties of unrevealed bids.
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasuryChanged(treasury_, msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @notice The market account of `account`: its credits and its membership.
    function accountOf(
        address account
    ) external view returns (uint256 available, uint256 escrowed, uint32 tenantId, uint8 roles) {
        Account memory a = _accounts[account];
        return (a.available, a.escrowed, a.tenantId, a.roles);
    }

    /// @notice Available and escrowed credits of many accounts in one call.
    function balancesOf(
        address[] calldata accounts
    ) external view returns (uint256[] memory available, uint256[] memory escrowed) {
        available = new uint256[](accounts.length);
        escrowed = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            Account memory a = _accounts[accounts[i]];
            available[i] = a.available;
            escrowed[i] = a.escrowed;
        }
    }
}
