// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IMemberDirectory, MemberRoles} from "../interfaces/IMarket.sol";
import {AccountLedger} from "./AccountLedger.sol";

/// @title TenantDirectory
/// @notice Tenants (organisations) and their member accounts with roles. The operator creates,
/// suspends and deletes tenants; the operator or a tenant's own admins manage its members.
/// A suspended or deleted tenant can start nothing new; what it already started still settles.
abstract contract TenantDirectory is AccessControl, AccountLedger, IMemberDirectory {
    /// @notice Role of the marketplace operator, who manages tenants.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    enum TenantStatus {
        None,
        Active,
        Suspended,
        Deleted
    }

    struct Tenant {
        TenantStatus status;
        uint32 memberCount;
        uint32 createdAt;
    }

    uint32 private _tenantCount;
    mapping(uint32 tenantId => Tenant) private _tenants;
    mapping(uint32 tenantId => string) private _tenantNames;
    /// @dev Invitations a tenant admin made and the account has not yet accepted: tenant and roles.
    mapping(address account => Invitation) private _invitations;

    /// @notice A tenant admin's offer of membership, waiting for the account's consent.
    struct Invitation {
        uint32 tenantId;
        uint8 roles;
    }

    /// @notice A tenant was created.
    event TenantCreated(uint32 indexed tenantId, string name, address indexed by);
    /// @notice A tenant was suspended, resumed or deleted.
    event TenantStatusChanged(uint32 indexed tenantId, TenantStatus status, address indexed by);
    /// @notice `account` joined `tenantId` with `roles`.
    event MemberAdded(uint32 indexed tenantId, address indexed account, uint8 roles, address by);
    /// @notice `account`'s roles in `tenantId` became `roles`.
    event MemberRolesChanged(uint32 indexed tenantId, address indexed account, uint8 roles, address by);
    /// @notice `account` left `tenantId`. Its credits stay its own.
    event MemberRemoved(uint32 indexed tenantId, address indexed account, address by);
    /// @notice A tenant admin invited `account` into `tenantId` with `roles`; it joins once it accepts.
    event MemberInvited(uint32 indexed tenantId, address indexed account, uint8 roles, address by);

    /// @notice A tenant needs a name.
    error EmptyName();
    /// @notice No tenant has id `tenantId`.
    error UnknownTenant(uint32 tenantId);
    /// @notice The tenant is suspended or deleted, or the change does not apply in its status.
    error InvalidTenantStatus(uint32 tenantId, TenantStatus status);
    /// @notice `account` already belongs to `tenantId`.
    error AlreadyMember(address account, uint32 tenantId);
    /// @notice `account` belongs to no tenant.
    error NotMember(address account);
    /// @notice `roles` is empty or has bits that are not roles.
    error InvalidRoles(uint8 roles);
    /// @notice The zero address cannot be a member.
    error ZeroAccount();
    /// @notice `caller` is neither the operator nor an admin of active tenant `tenantId`.
    error NotTenantManager(address caller, uint32 tenantId);
    /// @notice `account` is not an active member with roles `roles`.
    error NotActiveMember(address account, uint8 roles);
    /// @notice `account` has no invitation into `tenantId` to accept.
    error NotInvited(address account, uint32 tenantId);
    /// @notice `account` sells in round `roundId`, not cleared yet: it stays a provider until then,
    /// or its tenant would back out of the bids placed on its offers.
    error SellerInRound(address account, uint32 roundId);

    // ---------------------------------------------------------------- tenants

    /// @notice Creates an active tenant.
    /// @param name The organisation's display name.
    /// @return tenantId The new tenant's id, counting from 1.
    function createTenant(string calldata name) external onlyRole(OPERATOR_ROLE) returns (uint32 tenantId) {
        if (bytes(name).length == 0) revert EmptyName();
        tenantId = ++_tenantCount;
        _tenants[tenantId] = Tenant({status: TenantStatus.Active, memberCount: 0, createdAt: uint32(block.timestamp)});
        _tenantNames[tenantId] = name;
        emit TenantCreated(tenantId, name, msg.sender);
    }

    /// @notice Suspends an active tenant: its members can start nothing new until it is resumed.
    function suspendTenant(uint32 tenantId) external onlyRole(OPERATOR_ROLE) {
        _changeTenantStatus(tenantId, TenantStatus.Active, TenantStatus.Suspended);
    }

    /// @notice Resumes a suspended tenant.
    function resumeTenant(uint32 tenantId) external onlyRole(OPERATOR_ROLE) {
        _changeTenantStatus(tenantId, TenantStatus.Suspended, TenantStatus.Active);
    }

    /// @notice Deletes a tenant for good. Its running leases still settle and its members keep their credits.
    function deleteTenant(uint32 tenantId) external onlyRole(OPERATOR_ROLE) {
        TenantStatus status = _tenants[tenantId].status;
        if (status == TenantStatus.None) revert UnknownTenant(tenantId);
        if (status == TenantStatus.Deleted) revert InvalidTenantStatus(tenantId, status);
        _tenants[tenantId].status = TenantStatus.Deleted;
        emit TenantStatusChanged(tenantId, TenantStatus.Deleted, msg.sender);
    }

    // ---------------------------------------------------------------- members

    /// @notice Adds `account` to `tenantId` with `roles` (bits of MemberRoles). The operator enrols
    /// at once; a tenant admin invites, and the account joins when it accepts (`joinTenant`): an
    /// account belongs to one tenant, so no tenant may take one without its consent.
    /// @dev The operator may add to any tenant that is not deleted; a tenant admin only to its own active tenant.
    function addMember(uint32 tenantId, address account, uint8 roles) external {
        _requireTenantManager(tenantId);
        TenantStatus status = _tenants[tenantId].status;
        if (status == TenantStatus.Deleted) revert InvalidTenantStatus(tenantId, status);
        if (account == address(0)) revert ZeroAccount();
        _requireValidRoles(roles);
        uint32 current = _accounts[account].tenantId;
        if (current != 0) revert AlreadyMember(account, current);
        if (hasRole(OPERATOR_ROLE, msg.sender)) {
            _enrol(tenantId, account, roles, msg.sender);
        } else {
            _invitations[account] = Invitation({tenantId: tenantId, roles: roles});
            emit MemberInvited(tenantId, account, roles, msg.sender);
        }
    }

    /// @notice Accepts the caller's invitation into `tenantId`, with the roles it offered.
    function joinTenant(uint32 tenantId) external {
        Invitation memory invitation = _invitations[msg.sender];
        if (invitation.tenantId != tenantId || tenantId == 0) revert NotInvited(msg.sender, tenantId);
        TenantStatus status = _tenants[tenantId].status;
        if (status != TenantStatus.Active) revert InvalidTenantStatus(tenantId, status);
        uint32 current = _accounts[msg.sender].tenantId;
        if (current != 0) revert AlreadyMember(msg.sender, current);
        delete _invitations[msg.sender];
        _enrol(tenantId, msg.sender, invitation.roles, msg.sender);
    }

    /// @notice Leaves the caller's tenant. Its credits, bids and leases are untouched; it may join
    /// another. A seller with an offer in a round not yet cleared leaves once the round clears. A
    /// member of a suspended tenant stays until the operator decides: leaving would shed the
    /// sanction (its committed bids would clear as a tenantless buyer's instead of being refunded).
    function leaveTenant() external {
        uint32 tenantId = _requireMember(msg.sender);
        TenantStatus status = _tenants[tenantId].status;
        if (status == TenantStatus.Suspended) revert InvalidTenantStatus(tenantId, status);
        _requireNotSelling(msg.sender);
        _unenrol(tenantId, msg.sender);
    }

    /// @notice Replaces the roles of member `account`. A seller with an offer in a round not yet
    /// cleared keeps its provider role until the round clears.
    function setMemberRoles(address account, uint8 roles) external {
        uint32 tenantId = _requireMember(account);
        _requireTenantManager(tenantId);
        _requireValidRoles(roles);
        if (roles & MemberRoles.PROVIDER == 0) _requireNotSelling(account);
        _accounts[account].roles = roles;
        emit MemberRolesChanged(tenantId, account, roles, msg.sender);
    }

    /// @notice Removes member `account` from its tenant. Its credits, bids and leases are untouched.
    /// A seller with an offer in a round not yet cleared is removed once the round clears (the
    /// operator's suspension of the tenant is the sanction that does not wait).
    function removeMember(address account) external {
        uint32 tenantId = _requireMember(account);
        _requireTenantManager(tenantId);
        _requireNotSelling(account);
        _unenrol(tenantId, account);
    }

    // ---------------------------------------------------------------- views

    /// @notice The tenant `tenantId`.
    function tenant(
        uint32 tenantId
    ) external view returns (string memory name, TenantStatus status, uint32 memberCount, uint32 createdAt) {
        Tenant memory t = _tenants[tenantId];
        if (t.status == TenantStatus.None) revert UnknownTenant(tenantId);
        return (_tenantNames[tenantId], t.status, t.memberCount, t.createdAt);
    }

    /// @notice How many tenants were ever created; ids run from 1 to this.
    function tenantCount() external view returns (uint32) {
        return _tenantCount;
    }

    /// @inheritdoc IMemberDirectory
    function isActiveMember(address account, uint8 roles) external view returns (bool) {
        return _isActiveMember(_accounts[account], roles);
    }

    /// @inheritdoc IMemberDirectory
    function memberOf(address account) external view returns (uint32 tenantId, uint8 roles) {
        Account storage member = _accounts[account];
        return (member.tenantId, member.roles);
    }

    /// @inheritdoc IMemberDirectory
    function isActiveTenant(uint32 tenantId) public view returns (bool) {
        return _tenants[tenantId].status == TenantStatus.Active;
    }

    /// @inheritdoc IMemberDirectory
    function isActiveMemberOf(address account, uint32 tenantId, uint8 anyOfRoles) external view returns (bool) {
        Account storage member = _accounts[account];
        return member.tenantId == tenantId && member.roles & anyOfRoles != 0 && isActiveTenant(tenantId);
    }

    /// @inheritdoc IMemberDirectory
    function isOperator(address account) external view returns (bool) {
        return hasRole(OPERATOR_ROLE, account);
    }

    /// @notice The invitation `account` has not accepted yet (tenant 0: none).
    function invitationOf(address account) external view returns (uint32 tenantId, uint8 roles) {
        Invitation memory invitation = _invitations[account];
        return (invitation.tenantId, invitation.roles);
    }

    // ---------------------------------------------------------------- internal

    function _isActiveMember(Account storage account, uint8 roles) internal view returns (bool) {
        return account.roles & roles == roles && isActiveTenant(account.tenantId);
    }

    function _requireActiveMember(Account storage account, address owner, uint8 roles) internal view {
        if (!_isActiveMember(account, roles)) revert NotActiveMember(owner, roles);
    }

    function _changeTenantStatus(uint32 tenantId, TenantStatus from, TenantStatus to) private {
        TenantStatus status = _tenants[tenantId].status;
        if (status == TenantStatus.None) revert UnknownTenant(tenantId);
        if (status != from) revert InvalidTenantStatus(tenantId, status);
        _tenants[tenantId].status = to;
        emit TenantStatusChanged(tenantId, to, msg.sender);
    }

    function _enrol(uint32 tenantId, address account, uint8 roles, address by) private {
        Account storage member = _accounts[account];
        member.tenantId = tenantId;
        member.roles = roles;
        ++_tenants[tenantId].memberCount;
        emit MemberAdded(tenantId, account, roles, by);
    }

    function _unenrol(uint32 tenantId, address account) private {
        Account storage member = _accounts[account];
        member.tenantId = 0;
        member.roles = 0;
        --_tenants[tenantId].memberCount;
        emit MemberRemoved(tenantId, account, msg.sender);
    }

    /// @dev The uncleared round that holds an auction offer of `account` (0: none).
    function _roundHoldingSeller(address account) internal view virtual returns (uint32);

    function _requireNotSelling(address account) private view {
        uint32 roundId = _roundHoldingSeller(account);
        if (roundId != 0) revert SellerInRound(account, roundId);
    }

    function _requireTenantManager(uint32 tenantId) private view {
        if (_tenants[tenantId].status == TenantStatus.None) revert UnknownTenant(tenantId);
        if (hasRole(OPERATOR_ROLE, msg.sender)) return;
        Account storage caller = _accounts[msg.sender];
        if (caller.tenantId != tenantId || !_isActiveMember(caller, MemberRoles.TENANT_ADMIN)) {
            revert NotTenantManager(msg.sender, tenantId);
        }
    }

    function _requireMember(address account) private view returns (uint32 tenantId) {
        tenantId = _accounts[account].tenantId;
        if (tenantId == 0) revert NotMember(account);
    }

    function _requireValidRoles(uint8 roles) private pure {
        if (roles == 0 || roles & ~MemberRoles.ALL != 0) revert InvalidRoles(roles);
    }
}
