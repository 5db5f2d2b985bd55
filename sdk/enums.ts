/**
 * The contracts' enums and role bits, by name. Values are what the contracts store and emit.
 */

/** Roles a member holds in its tenant, as bits (`MemberRoles` in the contracts). */
export const MemberRole = { TenantAdmin: 1, Buyer: 2, Provider: 4 } as const;

export const TenantStatus = { None: 0, Active: 1, Suspended: 2, Deleted: 3 } as const;

export const NodeStatus = { None: 0, Available: 1, Maintenance: 2, Retired: 3 } as const;

export const Arch = { Any: 0, X86_64: 1, Aarch64: 2, Riscv64: 3 } as const;

/** Ids of the profiles every deployment defines. */
export const StandardProfile = { Micro: 1, Small: 2, Medium: 3, Large: 4 } as const;

export const PriceModel = { Fixed: 0, Dynamic: 1, Auction: 2 } as const;

export const OfferStatus = { None: 0, Open: 1, Closed: 2 } as const;

/** Why a booking does not fit an offer (`Offers.Unfit`, from `fitOf` and `OfferUnfit`). */
export const Unfit = {
  None: 0,
  Closed: 1,
  WrongModel: 2,
  Started: 3,
  OutsideWindow: 4,
  Misaligned: 5,
  SliceCount: 6,
  OutsideHours: 7,
  NodeUnavailable: 8,
  SellerInactive: 9,
  Booked: 10,
  Held: 11,
} as const;

export const RoundState = { Open: 0, Clearing: 1, Cleared: 2 } as const;

export const LeaseStatus = { None: 0, Pending: 1, Active: 2, Ended: 3, Cleaned: 4 } as const;

/** How a lease ended (`Settlement.EndReason`). */
export const EndReason = { None: 0, Expired: 1, Released: 2, Preempted: 3, Failed: 4, TimedOut: 5 } as const;

export const CreditRequestStatus = { None: 0, Pending: 1, Approved: 2, Rejected: 3, Cancelled: 4 } as const;

/** The name of enum value `value` in `values`, e.g. `nameOf(EndReason, 2n)` is "Released". */
export function nameOf<T extends Record<string, number>>(values: T, value: bigint | number): keyof T | undefined {
  return (Object.keys(values) as (keyof T)[]).find((key) => values[key] === Number(value));
}
