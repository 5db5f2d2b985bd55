// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMarketContracts, IMemberDirectory, MemberRoles} from "./interfaces/IMarket.sol";
import {INodes} from "./interfaces/INodes.sol";
import {IOffers} from "./interfaces/IOffers.sol";

/// @title Nodes
/// @notice The registry of machines: a provider registers a node with its resources, the agent that
/// operates it, and the resolution of its calendar; it sets the node available, in maintenance or
/// retired. Profiles (Micro, Small, Medium, Large, or custom) name a size that buyers can ask for.
contract Nodes is INodes {
    /// @notice The finest calendar resolution, and so the shortest slice, in seconds.
    uint32 public constant MIN_CALENDAR_UNIT = 5;
    /// @notice Ids of the standard profiles defined at deployment.
    uint16 public constant PROFILE_MICRO = 1;
    uint16 public constant PROFILE_SMALL = 2;
    uint16 public constant PROFILE_MEDIUM = 3;
    uint16 public constant PROFILE_LARGE = 4;
    /// @notice The most profiles the catalogue holds: an auction offer is indexed under every
    /// profile its node fits, and finding those reads each profile once.
    uint16 public constant MAX_PROFILES = 64;

    /// @notice Where membership is checked.
    IMemberDirectory public immutable directory;

    uint32 private _nodeCount;
    uint16 private _profileCount;
    mapping(uint32 nodeId => Node) private _nodes;
    mapping(uint32 nodeId => string) private _attributes;
    mapping(uint32 tenantId => uint32[]) private _tenantNodes;
    mapping(uint16 profileId => Resources) private _profiles;
    mapping(uint16 profileId => string) private _profileNames;

    /// @notice A node joined the market.
    event NodeRegistered(
        uint32 indexed nodeId,
        uint32 indexed tenantId,
        address indexed provider,
        address agent,
        uint32 calendarUnit,
        Resources resources,
        string attributes
    );
    /// @notice A node's resources or attributes changed.
    event NodeUpdated(uint32 indexed nodeId, Resources resources, string attributes, address by);
    /// @notice A node is operated by a new agent.
    event NodeAgentChanged(uint32 indexed nodeId, address indexed agent, address by);
    /// @notice A node became available, went into maintenance, or retired.
    event NodeStatusChanged(uint32 indexed nodeId, NodeStatus status, address by);
    /// @notice The node's agent took it out of the market for its operator, saying why.
    event NodeHeldForOperator(uint32 indexed nodeId, address indexed agent, string reason);
    /// @notice A profile was defined.
    event ProfileDefined(uint16 indexed profileId, string name, Resources needs, address indexed by);

    /// @notice `account` is not an active member with role `roles`.
    error NotActiveMember(address account, uint8 roles);
    /// @notice Only the marketplace's operator may do this.
    error NotOperator(address caller);
    /// @notice No node has id `nodeId`.
    error UnknownNode(uint32 nodeId);
    /// @notice `caller` may not manage node `nodeId`.
    error NotNodeManager(address caller, uint32 nodeId);
    /// @notice A calendar unit must be at least MIN_CALENDAR_UNIT seconds.
    error InvalidCalendarUnit(uint32 calendarUnit);
    /// @notice A node needs at least one core and some memory.
    error InvalidResources();
    /// @notice The node cannot go from `current` to `requested`.
    error InvalidStatusChange(NodeStatus current, NodeStatus requested);
    /// @notice A retired node cannot change.
    error NodeRetired(uint32 nodeId);
    /// @notice A profile needs a name.
    error EmptyName();
    /// @notice The catalogue holds MAX_PROFILES profiles already.
    error TooManyProfiles();
    /// @notice The agent cannot be the zero address.
    error ZeroAddress();
    /// @notice Node `nodeId` is offered in round `roundId`, not cleared yet: it stays as listed until then.
    error NodeHeld(uint32 nodeId, uint32 roundId);

    constructor(IMemberDirectory directory_) {
        if (address(directory_) == address(0)) revert ZeroAddress();
        directory = directory_;
        _defineProfile("Micro", Resources(1, 1, 10, 1, 0, Arch.Any));
        _defineProfile("Small", Resources(2, 4, 50, 1, 0, Arch.Any));
        _defineProfile("Medium", Resources(8, 32, 500, 10, 0, Arch.Any));
        _defineProfile("Large", Resources(32, 128, 2000, 25, 0, Arch.Any));
    }

    // ---------------------------------------------------------------- nodes

    /// @notice Registers a node of the caller's tenant. The caller must be an active provider.
    /// @param resources What the machine has, as its BMC reports it.
    /// @param calendarUnit Calendar resolution in seconds; offers slice the node in multiples of it.
    /// @param agent Account of the agent that provisions the node and reports on its leases.
    /// @param attributes Free-form description (e.g. "cpu=EPYC 7543;disk=nvme").
    /// @return nodeId The new node's id, counting from 1.
    function registerNode(
        Resources calldata resources,
        uint32 calendarUnit,
        address agent,
        string calldata attributes
    ) external returns (uint32 nodeId) {
        if (!directory.isActiveMember(msg.sender, MemberRoles.PROVIDER)) {
            revert NotActiveMember(msg.sender, MemberRoles.PROVIDER);
        }
        if (calendarUnit < MIN_CALENDAR_UNIT) revert InvalidCalendarUnit(calendarUnit);
        if (agent == address(0)) revert ZeroAddress();
        _requireValidResources(resources);
        (uint32 tenantId, ) = directory.memberOf(msg.sender);
        nodeId = ++_nodeCount;
        _nodes[nodeId] = Node({
            provider: msg.sender,
            tenantId: tenantId,
            calendarUnit: calendarUnit,
            status: NodeStatus.Available,
            agent: agent,
            registeredAt: uint32(block.timestamp),
            resources: resources
        });
        _attributes[nodeId] = attributes;
        _tenantNodes[tenantId].push(nodeId);
        emit NodeRegistered(nodeId, tenantId, msg.sender, agent, calendarUnit, resources, attributes);
    }

    /// @notice Records new resources or attributes, e.g. after a hardware change; not while a round
    /// that offers the node is under way (pool bids were placed on what it has).
    function updateNode(uint32 nodeId, Resources calldata resources, string calldata attributes) external {
        _requireManageable(nodeId);
        _requireNotHeld(nodeId);
        _requireValidResources(resources);
        _nodes[nodeId].resources = resources;
        _attributes[nodeId] = attributes;
        emit NodeUpdated(nodeId, resources, attributes, msg.sender);
    }

    /// @notice Hands the node to another agent.
    function setAgent(uint32 nodeId, address agent) external {
        _requireManageable(nodeId);
        if (agent == address(0)) revert ZeroAddress();
        _nodes[nodeId].agent = agent;
        emit NodeAgentChanged(nodeId, agent, msg.sender);
    }

    /// @notice Sets the node available or in maintenance, or retires it for good. A node in
    /// maintenance takes no new bookings; its running leases go on unless the owner preempts them.
    /// A node offered in a round not yet cleared stays available until the round clears: taking it
    /// away after the bids are open would back the seller out of them for free.
    function setStatus(uint32 nodeId, NodeStatus status) external {
        NodeStatus current = _requireManageable(nodeId);
        if (status == NodeStatus.None || status == current) revert InvalidStatusChange(current, status);
        if (status != NodeStatus.Available) _requireNotHeld(nodeId);
        _nodes[nodeId].status = status;
        emit NodeStatusChanged(nodeId, status, msg.sender);
    }

    /// @notice The node's agent takes it out of the market for its operator: it could not make it
    /// safe for the next tenant (a wipe that failed for good). The node goes into maintenance and
    /// takes no new bookings until a manager brings it back.
    function holdForOperator(uint32 nodeId, string calldata reason) external {
        Node storage held = _nodes[nodeId];
        if (held.status == NodeStatus.None) revert UnknownNode(nodeId);
        if (msg.sender != held.agent) revert NotNodeManager(msg.sender, nodeId);
        if (held.status == NodeStatus.Retired) revert NodeRetired(nodeId);
        if (held.status != NodeStatus.Maintenance) {
            held.status = NodeStatus.Maintenance;
            emit NodeStatusChanged(nodeId, NodeStatus.Maintenance, msg.sender);
        }
        emit NodeHeldForOperator(nodeId, msg.sender, reason);
    }

    // ---------------------------------------------------------------- profiles

    /// @notice Defines a named profile of needs that pool bids and searches can refer to. Only the
    /// operator: profiles are one catalogue for every tenant, and their ids (16 bits) are few enough
    /// that any member defining them could use them all up.
    /// @return profileId The new profile's id.
    function defineProfile(string calldata name, Resources calldata needs) external returns (uint16 profileId) {
        if (!directory.isOperator(msg.sender)) revert NotOperator(msg.sender);
        return _defineProfile(name, needs);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc INodes
    function node(uint32 nodeId) external view returns (Node memory) {
        Node memory n = _nodes[nodeId];
        if (n.status == NodeStatus.None) revert UnknownNode(nodeId);
        return n;
    }

    /// @inheritdoc INodes
    function bookingInfo(
        uint32 nodeId
    ) external view returns (uint32 tenantId, uint32 calendarUnit, NodeStatus status) {
        Node storage n = _nodes[nodeId];
        return (n.tenantId, n.calendarUnit, n.status);
    }

    /// @inheritdoc INodes
    function agentOf(uint32 nodeId) external view returns (address) {
        return _nodes[nodeId].agent;
    }

    /// @inheritdoc INodes
    function fits(uint32 nodeId, uint16 profileId) external view returns (bool) {
        if (profileId == 0) return true;
        if (profileId > _profileCount) return false;
        return _fits(_nodes[nodeId].resources, profileId);
    }

    /// @inheritdoc INodes
    /// @dev At most MAX_PROFILES reads: the catalogue is bounded so that this stays cheap.
    function fittingProfiles(uint32 nodeId) external view returns (uint256 mask) {
        Resources memory has = _nodes[nodeId].resources;
        uint16 count = _profileCount;
        for (uint16 profileId = 1; profileId <= count; ++profileId) {
            if (_fits(has, profileId)) mask |= uint256(1) << profileId;
        }
    }

    /// @inheritdoc INodes
    function canManage(uint32 nodeId, address account) public view returns (bool) {
        // A member who left, or a tenant suspended or deleted, manages nothing any more.
        return
            directory.isActiveMemberOf(
                account,
                _nodes[nodeId].tenantId,
                MemberRoles.PROVIDER | MemberRoles.TENANT_ADMIN
            );
    }

    /// @notice The node's free-form attributes.
    function attributesOf(uint32 nodeId) external view returns (string memory) {
        return _attributes[nodeId];
    }

    /// @notice Ids of the nodes registered by `tenantId`.
    function nodesOfTenant(uint32 tenantId) external view returns (uint32[] memory) {
        return _tenantNodes[tenantId];
    }

    /// @notice How many nodes were ever registered; ids run from 1 to this.
    function nodeCount() external view returns (uint32) {
        return _nodeCount;
    }

    /// @notice Profile `profileId`'s name and needs.
    function profile(uint16 profileId) external view returns (string memory name, Resources memory needs) {
        return (_profileNames[profileId], _profiles[profileId]);
    }

    /// @notice How many profiles exist; ids run from 1 to this.
    function profileCount() external view returns (uint16) {
        return _profileCount;
    }

    // ---------------------------------------------------------------- internal

    function _fits(Resources memory has, uint16 profileId) private view returns (bool) {
        Resources memory needs = _profiles[profileId];
        return
            has.cores >= needs.cores &&
            has.memoryGiB >= needs.memoryGiB &&
            has.storageGB >= needs.storageGB &&
            has.networkGbps >= needs.networkGbps &&
            has.gpus >= needs.gpus &&
            (needs.arch == Arch.Any || needs.arch == has.arch);
    }

    function _defineProfile(string memory name, Resources memory needs) private returns (uint16 profileId) {
        if (bytes(name).length == 0) revert EmptyName();
        if (_profileCount >= MAX_PROFILES) revert TooManyProfiles();
        profileId = ++_profileCount;
        _profiles[profileId] = needs;
        _profileNames[profileId] = name;
        emit ProfileDefined(profileId, name, needs, msg.sender);
    }

    function _requireManageable(uint32 nodeId) private view returns (NodeStatus status) {
        status = _nodes[nodeId].status;
        if (status == NodeStatus.None) revert UnknownNode(nodeId);
        if (status == NodeStatus.Retired) revert NodeRetired(nodeId);
        if (!canManage(nodeId, msg.sender)) revert NotNodeManager(msg.sender, nodeId);
    }

    function _requireNotHeld(uint32 nodeId) private view {
        address book = IMarketContracts(address(directory)).offers();
        if (book == address(0)) return;
        uint32 roundId = IOffers(book).roundHoldingNode(nodeId);
        if (roundId != 0) revert NodeHeld(nodeId, roundId);
    }

    function _requireValidResources(Resources calldata resources) private pure {
        if (resources.cores == 0 || resources.memoryGiB == 0) revert InvalidResources();
    }
}
