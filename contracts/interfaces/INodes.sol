// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title INodes
/// @notice The registry of machines offered on the market.
interface INodes {
    enum NodeStatus {
        None,
        Available,
        Maintenance,
        Retired
    }

    enum Arch {
        Any,
        X86_64,
        Aarch64,
        Riscv64
    }

    /// @notice A machine's resources, or the needs a buyer names in a profile.
    struct Resources {
        uint16 cores;
        uint32 memoryGiB;
        uint32 storageGB;
        uint16 networkGbps;
        uint8 gpus;
        Arch arch;
    }

    /// @notice A registered node. `calendarUnit` is the resolution of its calendar, in seconds.
    struct Node {
        address provider;
        uint32 tenantId;
        uint32 calendarUnit;
        NodeStatus status;
        address agent;
        uint32 registeredAt;
        Resources resources;
    }

    /// @notice The node `nodeId`; reverts when it does not exist.
    function node(uint32 nodeId) external view returns (Node memory);

    /// @notice The part of a node that booking needs, read in one storage slot.
    function bookingInfo(uint32 nodeId) external view returns (uint32 tenantId, uint32 calendarUnit, NodeStatus status);

    /// @notice The agent that operates the node and reports on its leases.
    function agentOf(uint32 nodeId) external view returns (address);

    /// @notice True when the node's resources meet every need of profile `profileId`.
    function fits(uint32 nodeId, uint16 profileId) external view returns (bool);

    /// @notice The profiles the node fits, as a bit mask: bit `p` set when it fits profile `p`.
    function fittingProfiles(uint32 nodeId) external view returns (uint256 mask);

    /// @notice True when `account` may manage the node: its provider or an admin of its tenant.
    function canManage(uint32 nodeId, address account) external view returns (bool);
}
