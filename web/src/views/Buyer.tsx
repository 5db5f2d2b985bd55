import { formatUnits } from "ethers";
import { useEffect, useState } from "react";

import { explain, type Bid, type CreditRequest, type Lease, type Usage } from "../api";
import { LineChart, byDay } from "../components/Chart";
import { Field, Notice, Table, useAction, useLoad, when } from "../components/ui";
import { useSession } from "../session";
import { browserWallet, releaseWithWallet, type ChainInfo } from "../wallet";
import { advanceWalletBids, walletBids, type WalletBid } from "../walletBids";

const BIDS_POLL_MS = 2000;

/** My leases, their state as it changes (live), the node's address, usage and costs; release early. */
export function Leases() {
  const { api, live } = useSession();
  const [open, setOpen] = useState<number>();
  const leases = useLoad(() => api.get<{ leases: Lease[] }>("/leases"), [api, live]);
  return (
    <section aria-labelledby="leases-title">
      <h1 id="leases-title">My leases</h1>
      <Table
        caption="Leases"
        rows={leases.data?.leases}
        rowKey={(l) => l.leaseId}
        empty="No lease yet. Book a slice in the Market."
        columns={[
          ["Lease", (l) => `#${l.leaseId}`],
          ["Node", (l) => `#${l.nodeId}`],
          ["Runs", (l) => `${when(l.start)} to ${when(l.end)}`],
          [
            "State",
            (l) => (
              <span className={`state ${l.status}`}>
                {l.endReason === null ? l.status : `${l.status} (${l.endReason})`}
              </span>
            ),
          ],
          ["Address", (l) => l.nodeAddress ?? "not yet"],
          ["Cost", (l) => `${l.cost}${l.refund === null ? "" : ` (${l.refund} back)`}`],
          [
            "",
            (l) => (
              <button type="button" className="secondary" onClick={() => setOpen(l.leaseId)}>
                Details<span className="visually-hidden"> of lease {l.leaseId}</span>
              </button>
            ),
          ],
        ]}
      />
      {open === undefined ? null : <LeaseDetail leaseId={open} onChange={leases.reload} />}
      <LineChart
        title="Spending by day (credits, net of refunds)"
        unit="credits"
        points={byDay(
          leases.data?.leases ?? [],
          (l) => l.start,
          (l) => Number(l.cost) - Number(l.refund ?? 0),
        )}
        xLabel={(x) => when(x).slice(0, 10)}
      />
    </section>
  );
}

function LeaseDetail(props: { leaseId: number; onChange: () => void }) {
  const { api, me, live, refreshMe } = useSession();
  const usage = useLoad(() => api.get<Usage>(`/leases/${props.leaseId}/usage`), [api, props.leaseId, live]);
  const release = useAction(async () => {
    const wallet = browserWallet();
    if (!me.user.custodial && wallet !== undefined) {
      await releaseWithWallet(wallet, await api.get<ChainInfo>("/chain"), me.user.address, props.leaseId);
      refreshMe();
      props.onChange();
      usage.reload();
      return "Released with your wallet; the unused time comes back to you.";
    }
    const { lease } = await api.post<{ lease: Lease }>(`/leases/${props.leaseId}/release`);
    refreshMe();
    props.onChange();
    usage.reload();
    return `Released. ${lease.refund ?? "0"} credits come back to you.`;
  });
  const data = usage.data;
  if (data === undefined) return <p className="loading">Loading lease {props.leaseId}…</p>;
  const running = data.lease.status === "pending" || data.lease.status === "active";
  return (
    <section className="panel" aria-label={`Lease ${props.leaseId}`}>
      <h2>Lease #{props.leaseId}</h2>
      <dl className="facts">
        <dt>State</dt>
        <dd>{data.lease.status}</dd>
        <dt>Node address</dt>
        <dd>{data.lease.nodeAddress ?? "given once the node is up"}</dd>
        <dt>Used so far</dt>
        <dd>
          {Math.round(data.elapsedSeconds / 60)} minutes, {data.accrued} credits
        </dd>
        <dt>Image</dt>
        <dd>{data.lease.image ?? "the market's default"}</dd>
      </dl>
      <LineChart
        title="Power drawn"
        unit="W"
        points={data.samples
          .filter((s) => s.watts !== null)
          .map((s) => ({ x: Date.parse(s.at) / 1000, y: s.watts ?? 0 }))}
        xLabel={(x) => when(x).slice(11)}
      />
      {data.metering === null ? (
        <p className="hint">The agent anchors the usage record on the chain when the lease ends.</p>
      ) : (
        <p className="hint">Usage record anchored on the chain: {data.metering.recordHash.slice(0, 18)}…</p>
      )}
      {running ? (
        <form onSubmit={release.submit}>
          <button type="submit" className="danger" disabled={release.busy}>
            {release.busy ? "Releasing…" : "Release early"}
          </button>
        </form>
      ) : null}
      {release.notice}
    </section>
  );
}

/** My sealed bids: committed, revealed by the gateway, then matched or not. */
export function Bids() {
  const { me } = useSession();
  return me.user.custodial ? <GatewayBids /> : <WalletBids />;
}

/** Bids sealed by the wallet in this browser: revealed and cleared by the portal while it is open. */
function WalletBids() {
  const { api, me, live } = useSession();
  const [bids, setBids] = useState(() => walletBids(me.user.address));
  const [error, setError] = useState<string>();
  const leases = useLoad(() => api.get<{ leases: Lease[] }>("/leases"), [api, live, bids]);
  useEffect(() => {
    const wallet = browserWallet();
    if (wallet === undefined) return;
    let busy = false;
    const step = async () => {
      if (busy || !walletBids(me.user.address).some((b) => b.state === "committed" || b.state === "revealed")) return;
      busy = true;
      try {
        const pass = await advanceWalletBids(wallet, await api.get<ChainInfo>("/chain"), me.user.address);
        if (pass.moved.length > 0) setBids(walletBids(me.user.address));
        // One bid's trouble is shown; the others moved on regardless, and it is tried again.
        const failed = pass.failed[0];
        setError(failed === undefined ? undefined : explain(failed.error));
      } catch (failure) {
        setError(explain(failure));
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void step(), BIDS_POLL_MS);
    void step();
    return () => clearInterval(timer);
  }, [api, me.user.address]);
  const leaseOf = (b: WalletBid) =>
    leases.data?.leases.find(
      (l) => l.offerId === Number(b.terms.offerId) && Date.parse(l.start) / 1000 === Number(b.terms.start),
    );
  return (
    <section aria-labelledby="bids-title">
      <h1 id="bids-title">My sealed bids</h1>
      <p className="hint">
        Sealed by your wallet: the terms and salt stay in this browser. Keep this page open in the reveal window; the
        portal reveals your bids and clears their round.
      </p>
      {error === undefined ? null : <Notice kind="error">{error}</Notice>}
      <Table
        caption="Bids"
        rows={bids}
        rowKey={(b) => b.commitment}
        empty="No bid sealed in this browser yet. Bid on an auction slice in the Market."
        columns={[
          ["Round", (b) => b.terms.roundId],
          ["Offer", (b) => `#${b.terms.offerId}`],
          ["Per hour", (b) => formatUnits(BigInt(b.terms.pricePerHour), 6).replace(/\.0$/, "")],
          ["Starts", (b) => when(Number(b.terms.start))],
          ["State", (b) => <span className={`state ${b.state}`}>{b.state}</span>],
          [
            "Outcome",
            (b) => {
              if (b.state !== "cleared") return "";
              const lease = leaseOf(b);
              return lease === undefined ? "not won" : `won: lease #${lease.leaseId}`;
            },
          ],
        ]}
      />
    </section>
  );
}

/** Bids the gateway sealed, revealed and cleared for its users. */
function GatewayBids() {
  const { api, live } = useSession();
  const bids = useLoad(() => api.get<{ bids: Bid[] }>("/bids"), [api, live]);
  // Reveals come with no notification: while a bid is on its way, the list looks again now and then.
  const waiting = (bids.data?.bids ?? []).some((b) => ["sealed", "committed", "revealed"].includes(b.state));
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(bids.reload, BIDS_POLL_MS);
    return () => clearInterval(timer);
  }, [waiting, bids.reload]);
  return (
    <section aria-labelledby="bids-title">
      <h1 id="bids-title">My sealed bids</h1>
      <p className="hint">
        The gateway keeps each bid sealed, reveals it in its round's reveal window and clears the round.
      </p>
      <Table
        caption="Bids"
        rows={bids.data?.bids}
        rowKey={(b) => b.bidRef}
        empty="No bid yet. Bid on an auction slice in the Market."
        columns={[
          ["Round", (b) => b.roundId],
          ["Offer", (b) => (b.terms?.offerId === null ? "pool" : `#${b.terms?.offerId ?? "?"}`)],
          ["Per hour", (b) => b.terms?.pricePerHour ?? "sealed"],
          ["Deposit", (b) => b.deposit],
          ["Reveal", (b) => `${when(b.revealOpensAt)} to ${when(b.revealClosesAt)}`],
          ["State", (b) => <span className={`state ${b.state}`}>{b.state}</span>],
          ["Lease", (b) => (b.leaseId === null ? "" : `#${b.leaseId}`)],
        ]}
      />
    </section>
  );
}

/** My credits, and asking the credit admins for more. */
export function Credits() {
  const { api, me, live, refreshMe } = useSession();
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const requests = useLoad(() => api.get<{ requests: CreditRequest[] }>("/credits/requests"), [api, live]);
  const ask = useAction(async () => {
    const { request } = await api.post<{ request: CreditRequest }>("/credits/requests", { amount, reason });
    requests.reload();
    refreshMe();
    setAmount("");
    setReason("");
    return `Request #${request.requestId} sent to the credit admins.`;
  });
  return (
    <section aria-labelledby="credits-title">
      <h1 id="credits-title">Credits</h1>
      <dl className="facts">
        <dt>Available</dt>
        <dd>{me.credits.available}</dd>
        <dt>Held for leases and bids</dt>
        <dd>{me.credits.escrowed}</dd>
        <dt>In your wallet</dt>
        <dd>{me.credits.wallet}</dd>
      </dl>
      <form className="panel" aria-label="Request credits" onSubmit={ask.submit}>
        <h2>Request more credits</h2>
        <Field label="Amount (credits)">
          <input inputMode="decimal" required value={amount} onChange={(e) => setAmount(e.target.value)} />
        </Field>
        <Field label="What for">
          <input required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        </Field>
        <button type="submit" disabled={ask.busy}>
          {ask.busy ? "Sending…" : "Request"}
        </button>
        {ask.notice}
      </form>
      <Table
        caption="My requests"
        rows={requests.data?.requests}
        rowKey={(r) => r.requestId}
        empty="No request yet."
        columns={[
          ["Request", (r) => `#${r.requestId}`],
          ["Amount", (r) => r.amount],
          ["Reason", (r) => r.reason],
          ["State", (r) => r.status],
        ]}
      />
    </section>
  );
}
