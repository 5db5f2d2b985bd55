// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC1363} from "@openzeppelin/contracts/token/ERC20/extensions/ERC1363.sol";
import {ERC1363Utils} from "@openzeppelin/contracts/token/ERC20/utils/ERC1363Utils.sol";

import {IMemberDirectory} from "./interfaces/IMarket.sol";

/// @title Credits
/// @notice The market's unit of account, an ERC-20 (with ERC-1363 `transferAndCall`, which deposits
/// into the market in one step). Credit admins grant (mint) and take (burn) credits; members ask for
/// credits with a reason and an admin approves or rejects the request on chain.
contract Credits is ERC20, ERC1363, AccessControl {
    /// @notice Role of those who grant, take, and decide on credit requests.
    bytes32 public constant CREDIT_ADMIN_ROLE = keccak256("CREDIT_ADMIN_ROLE");
    uint8 private constant DECIMALS = 6;

    enum RequestStatus {
        None,
        Pending,
        Approved,
        Rejected,
        Cancelled
    }

    /// @notice A member's request for credits, in one slot.
    struct CreditRequest {
        address requester;
        uint88 amount;
        RequestStatus status;
    }

    /// @notice Where membership is checked; set once.
    IMemberDirectory public directory;

    uint32 private _requestCount;
    mapping(uint32 requestId => CreditRequest) private _requests;

    /// @notice An admin granted `amount` credits to `to`.
    event CreditsGranted(address indexed to, uint256 amount, address indexed by, string memo);
    /// @notice An admin took `amount` credits from `from`.
    event CreditsTaken(address indexed from, uint256 amount, address indexed by, string memo);
    /// @notice A member asked for credits.
    event CreditsRequested(uint32 indexed requestId, address indexed requester, uint256 amount, string reason);
    /// @notice A request was approved and its credits granted.
    event CreditRequestApproved(uint32 indexed requestId, address indexed by);
    /// @notice A request was rejected.
    event CreditRequestRejected(uint32 indexed requestId, address indexed by, string reason);
    /// @notice The requester withdrew its request.
    event CreditRequestCancelled(uint32 indexed requestId);
    /// @notice The member directory was connected.
    event DirectoryConnected(address directory);

    /// @notice Amounts must be positive and fit the request's 88 bits.
    error InvalidAmount(uint256 amount);
    /// @notice `account` is not a member of an active tenant.
    error NotActiveMember(address account);
    /// @notice No request has id `requestId`.
    error UnknownRequest(uint32 requestId);
    /// @notice Request `requestId` was decided already.
    error RequestNotPending(uint32 requestId, RequestStatus status);
    /// @notice Only the requester may cancel its request.
    error NotRequester(address caller, uint32 requestId);
    /// @notice The directory is connected already.
    error AlreadyConnected();
    /// @notice An address given is the zero address.
    error ZeroAddress();
    /// @notice Credits held by the market are its members' (available or in escrow): no admin takes them.
    error MarketHeld();
    /// @notice Credits reach the market only as a deposit (`transferAndCall`, or the market's
    /// `deposit`), which credits the sender's account; a plain transfer would be lost to everyone.
    error DepositThroughMarket();

    /// @param admin Operator account: gets the admin and credit admin roles.
    constructor(address admin) ERC20("Metalmarket Credit", "MMC") {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(CREDIT_ADMIN_ROLE, admin);
    }

    /// @notice Credits have 6 decimals: 1 credit is 1,000,000 base units.
    function decimals() public pure override returns (uint8) {
        return DECIMALS;
    }

    /// @notice Connects the member directory that credit requests are checked against. Once.
    function connectDirectory(IMemberDirectory directory_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(directory) != address(0)) revert AlreadyConnected();
        if (address(directory_) == address(0)) revert ZeroAddress();
        directory = directory_;
        emit DirectoryConnected(address(directory_));
    }

    // ---------------------------------------------------------------- admins

    /// @notice Mints `amount` credits to `to`.
    /// @param memo Why, for the audit trail.
    function grant(address to, uint256 amount, string calldata memo) external onlyRole(CREDIT_ADMIN_ROLE) {
        if (amount == 0) revert InvalidAmount(amount);
        _mint(to, amount);
        emit CreditsGranted(to, amount, msg.sender, memo);
    }

    /// @notice Burns `amount` credits from `from`'s wallet. Credits held in the market are not reachable.
    /// @param memo Why, for the audit trail.
    function take(address from, uint256 amount, string calldata memo) external onlyRole(CREDIT_ADMIN_ROLE) {
        if (amount == 0) revert InvalidAmount(amount);
        if (from == address(directory)) revert MarketHeld();
        _burn(from, amount);
        emit CreditsTaken(from, amount, msg.sender, memo);
    }

    /// @notice Approves a pending request, minting its credits to the requester, who must still be a
    /// member of an active tenant (one removed since asking gets nothing).
    function approveRequest(uint32 requestId) external onlyRole(CREDIT_ADMIN_ROLE) {
        CreditRequest storage request = _requirePending(requestId);
        _requireActiveMember(request.requester);
        request.status = RequestStatus.Approved;
        emit CreditRequestApproved(requestId, msg.sender);
        _mint(request.requester, request.amount);
        emit CreditsGranted(request.requester, request.amount, msg.sender, "request");
    }

    /// @notice Rejects a pending request.
    function rejectRequest(uint32 requestId, string calldata reason) external onlyRole(CREDIT_ADMIN_ROLE) {
        _requirePending(requestId).status = RequestStatus.Rejected;
        emit CreditRequestRejected(requestId, msg.sender, reason);
    }

    // ---------------------------------------------------------------- members

    /// @notice Asks the credit admins for `amount` credits.
    /// @return requestId The request's id, counting from 1.
    function requestCredits(uint256 amount, string calldata reason) external returns (uint32 requestId) {
        if (amount == 0 || amount > type(uint88).max) revert InvalidAmount(amount);
        _requireActiveMember(msg.sender);
        requestId = ++_requestCount;
        _requests[requestId] = CreditRequest({
            requester: msg.sender,
            amount: uint88(amount),
            status: RequestStatus.Pending
        });
        emit CreditsRequested(requestId, msg.sender, amount, reason);
    }

    /// @notice Withdraws the caller's own pending request.
    function cancelRequest(uint32 requestId) external {
        CreditRequest storage request = _requirePending(requestId);
        if (request.requester != msg.sender) revert NotRequester(msg.sender, requestId);
        request.status = RequestStatus.Cancelled;
        emit CreditRequestCancelled(requestId);
    }

    // ---------------------------------------------------------------- transfers

    /// @inheritdoc ERC20
    /// @dev Not to the market: see `DepositThroughMarket`.
    function transfer(address to, uint256 value) public override(ERC20, IERC20) returns (bool) {
        if (to == address(directory)) revert DepositThroughMarket();
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    /// @dev To the market only when the market itself pulls a deposit.
    function transferFrom(address from, address to, uint256 value) public override(ERC20, IERC20) returns (bool) {
        if (to == address(directory) && msg.sender != to) revert DepositThroughMarket();
        return super.transferFrom(from, to, value);
    }

    /// @inheritdoc ERC1363
    /// @dev Moves the credits without `transfer`, which refuses the market, then calls the receiver.
    function transferAndCall(address to, uint256 value, bytes memory data) public override returns (bool) {
        _transfer(_msgSender(), to, value);
        ERC1363Utils.checkOnERC1363TransferReceived(_msgSender(), _msgSender(), to, value, data);
        return true;
    }

    /// @inheritdoc ERC1363
    /// @dev As `transferAndCall`, from `from` with the caller's allowance.
    function transferFromAndCall(
        address from,
        address to,
        uint256 value,
        bytes memory data
    ) public override returns (bool) {
        _spendAllowance(from, _msgSender(), value);
        _transfer(from, to, value);
        ERC1363Utils.checkOnERC1363TransferReceived(_msgSender(), from, to, value, data);
        return true;
    }

    // ---------------------------------------------------------------- views

    /// @notice Request `requestId`.
    function requestOf(uint32 requestId) external view returns (CreditRequest memory) {
        CreditRequest memory request = _requests[requestId];
        if (request.status == RequestStatus.None) revert UnknownRequest(requestId);
        return request;
    }

    /// @notice How many requests were ever made; ids run from 1 to this.
    function requestCount() external view returns (uint32) {
        return _requestCount;
    }

    /// @inheritdoc ERC1363
    function supportsInterface(bytes4 interfaceId) public view override(ERC1363, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    function _requireActiveMember(address account) private view {
        (uint32 tenantId, ) = directory.memberOf(account);
        if (!directory.isActiveTenant(tenantId)) revert NotActiveMember(account);
    }

    function _requirePending(uint32 requestId) private view returns (CreditRequest storage request) {
        request = _requests[requestId];
        if (request.status == RequestStatus.None) revert UnknownRequest(requestId);
        if (request.status != RequestStatus.Pending) revert RequestNotPending(requestId, request.status);
    }
}
