// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title PlainSealedBidAuction
/// @notice BENCHMARK BASELINE ONLY. The textbook blind auction (after the Solidity documentation's
/// BlindAuction) with ERC-20 deposits: what a sealed bid costs without the market's storage layout.
/// The gas benchmark measures it in the same run as the market.
contract PlainSealedBidAuction {
    using SafeERC20 for IERC20;

    struct Sealed {
        bytes32 blindedBid;
        uint256 deposit;
    }

    IERC20 public immutable token;
    mapping(address bidder => Sealed[]) public bids;
    mapping(address bidder => uint256) public pendingReturns;
    address public highestBidder;
    uint256 public highestBid;

    event BidCommitted(address indexed bidder, uint256 index, bytes32 blindedBid, uint256 deposit);
    event BidRevealed(address indexed bidder, uint256 index, uint256 value, bool leading);

    error NotYourBid();

    constructor(IERC20 token_) {
        token = token_;
    }

    /// @notice Seals a bid, taking the deposit.
    function commit(bytes32 blindedBid, uint256 deposit) external {
        token.safeTransferFrom(msg.sender, address(this), deposit);
        bids[msg.sender].push(Sealed(blindedBid, deposit));
        emit BidCommitted(msg.sender, bids[msg.sender].length - 1, blindedBid, deposit);
    }

    /// @notice Opens bid `index`; what is not bid (or outbid later) can be withdrawn.
    function reveal(uint256 index, uint256 value, bytes32 salt) external {
        Sealed storage bid = bids[msg.sender][index];
        if (bid.blindedBid != keccak256(abi.encode(value, salt))) revert NotYourBid();
        uint256 refund = bid.deposit;
        bid.blindedBid = bytes32(0);
        bool leading = value <= refund && value > highestBid;
        if (leading) {
            if (highestBidder != address(0)) pendingReturns[highestBidder] += highestBid;
            highestBid = value;
            highestBidder = msg.sender;
            refund -= value;
        }
        pendingReturns[msg.sender] += refund;
        emit BidRevealed(msg.sender, index, value, leading);
    }
}
