import { describe, expect, it } from "vitest";

import {
  CommitPhaseEndingError,
  SEALED_TRANSITIONS,
  SealedTransitionError,
  advanceSealedBids,
  commitRound,
  nextSealedState,
  revealWindow,
  sealedStep,
  type SealedBidCalls,
  type SealedState,
} from "../../sdk/index.js";

const schedule = { genesis: 1_000_000, commitSeconds: 600, revealSeconds: 300 };
// Round 3 takes commits in [1_001_200, 1_001_800) and reveals in [1_001_800, 1_002_100).
const round = 3;
const { opensAt, closesAt } = revealWindow(schedule, round);
const at = (head: number, blockSeconds = 2) => ({ head, next: head + blockSeconds });

describe("the sealed-bid lifecycle", () => {
  it("moves only along its table, and every state is reachable from sealed", () => {
    expect(nextSealedState("sealed", "commitLanded")).toBe("committed");
    expect(nextSealedState("committed", "windowMissed")).toBe("missed");
    expect(nextSealedState("revealed", "won")).toBe("matched");
    expect(() => nextSealedState("missed", "revealLanded")).toThrow(SealedTransitionError);
    expect(() => nextSealedState("committed", "won")).toThrow(/committed cannot take "won"/);

    // A Set's iteration visits what is added while it runs: one loop walks the whole graph.
    const reached = new Set<SealedState>(["sealed"]);
    for (const state of reached) for (const next of Object.values(SEALED_TRANSITIONS[state])) reached.add(next);
    expect([...reached].sort()).toEqual(Object.keys(SEALED_TRANSITIONS).sort());
  });

  it("reveals once the head is in the window, while the next block can still carry it; a miss otherwise", () => {
    const committed = { state: "committed" as const, roundId: round };
    expect(sealedStep(committed, schedule, at(opensAt - 1))).toEqual({ action: "wait", until: opensAt });
    expect(sealedStep(committed, schedule, at(opensAt))).toEqual({ action: "reveal", closesAt });
    expect(sealedStep(committed, schedule, at(closesAt - 3))).toEqual({ action: "reveal", closesAt });
    // Two seconds a block: a reveal sent in the window's last two seconds would be mined after it.
    expect(sealedStep(committed, schedule, at(closesAt - 2))).toEqual({ action: "miss", closedAt: closesAt });
    expect(sealedStep(committed, schedule, at(closesAt - 2, 1))).toEqual({ action: "reveal", closesAt });
  });

  it("clears after the window, confirms a commit whose answer was lost, and leaves settled bids alone", () => {
    const revealed = { state: "revealed" as const, roundId: round };
    expect(sealedStep(revealed, schedule, at(closesAt - 1))).toEqual({ action: "wait", until: closesAt });
    expect(sealedStep(revealed, schedule, at(closesAt))).toEqual({ action: "clear" });
    expect(sealedStep({ state: "sealed", roundId: round }, schedule, at(opensAt))).toEqual({ action: "confirm" });
    for (const state of ["matched", "unmatched", "cleared", "failed", "missed"] as const)
      expect(sealedStep({ state, roundId: round }, schedule, at(closesAt + 1))).toEqual({ action: "none" });
  });

  it("names the round open when the next block comes, unless its commit phase ends within the margin", () => {
    const commitClosesAt = opensAt;
    expect(commitRound(schedule, { ...at(commitClosesAt - 20), blockSeconds: 2 }, 5)).toBe(round);
    // The head is still in round 3, but the next block is in round 4: its terms name round 4.
    expect(commitRound(schedule, { head: commitClosesAt - 1, next: commitClosesAt + 1, blockSeconds: 2 }, 0)).toBe(
      round + 1,
    );
    const late = () => commitRound(schedule, { ...at(commitClosesAt - 6), blockSeconds: 2 }, 5);
    expect(late).toThrow(CommitPhaseEndingError);
    expect(late).toThrow(`round ${round} stops taking bids in 6 s`);
  });

  it("advances a store in one pass: reveals, reports misses, clears each round once, and keeps failures", async () => {
    interface Kept {
      id: string;
      state: SealedState;
      terms: { roundId: string };
    }
    const kept = new Map<string, Kept>(
      [
        { id: "due", state: "committed" as const, round },
        { id: "refused", state: "committed" as const, round },
        { id: "late", state: "committed" as const, round: round - 1 },
        { id: "won", state: "revealed" as const, round: round - 1 },
        { id: "lost", state: "revealed" as const, round: round - 1 },
        { id: "early", state: "committed" as const, round: round + 1 },
        { id: "done", state: "matched" as const, round: round - 2 },
      ].map(({ id, state, round: r }) => [id, { id, state, terms: { roundId: String(r) } }]),
    );
    const sent: string[] = [];
    const calls: SealedBidCalls<Kept> = {
      now: async () => at(opensAt + 10),
      reveal: async (bid) => {
        if (bid.id === "refused") throw new Error("the node refused the reveal");
        sent.push(`reveal ${bid.id}`);
      },
      clear: async (roundId) => void sent.push(`clear ${roundId}`),
      outcome: async (bid) => (bid.id === "won" ? "won" : "lost"),
    };
    const pass = await advanceSealedBids(
      { list: () => [...kept.values()], save: (bid) => void kept.set(bid.id, bid) },
      schedule,
      calls,
    );
    expect(sent).toEqual(["reveal due", `clear ${round - 1}`]);
    expect(Object.fromEntries([...kept.values()].map((bid) => [bid.id, bid.state]))).toEqual({
      due: "revealed",
      refused: "committed",
      late: "missed",
      won: "matched",
      lost: "unmatched",
      early: "committed",
      done: "matched",
    });
    expect(pass.moved.map(({ bid, from }) => `${bid.id}: ${from} -> ${bid.state}`)).toEqual([
      "due: committed -> revealed",
      "late: committed -> missed",
      "won: revealed -> matched",
      "lost: revealed -> unmatched",
    ]);
    expect(pass.failed.map(({ bid, error }) => [bid.id, String(error)])).toEqual([
      ["refused", "Error: the node refused the reveal"],
    ]);
  });
});
