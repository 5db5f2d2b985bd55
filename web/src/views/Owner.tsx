import { useState } from "react";

import type { Lease, Node, Offer, Stats } from "../api";
import { BarChart, LineChart, byDay } from "../components/Chart";
import { Field, Notice, Table, useAction, useLoad, when } from "../components/ui";
import { useSession } from "../session";

const HOUR = 3600;
/** `Arch` 1: the portal registers x86-64 machines; other architectures enrol from their BMC. */
const X86_64 = 1;

/** The provider's nodes: status and maintenance, usage and revenue per node, preemption. */
export function Nodes() {
  const { api, me, live } = useSession();
  const tenantId = me.user.tenantId ?? undefined;
  const nodes = useLoad(() => api.get<{ nodes: Node[] }>("/nodes", { tenantId }), [api, tenantId, live]);
  // A preempted lease leaves the running ones at once, so the outcome is told above the table.
  const [preempted, setPreempted] = useState<string>();
  const leases = useLoad(() => api.get<{ leases: Lease[] }>("/leases", { limit: 500 }), [api, live]);
  const mine = new Set((nodes.data?.nodes ?? []).map((n) => n.nodeId));
  const onMyNodes = (leases.data?.leases ?? []).filter((l) => mine.has(l.nodeId));
  const revenue = [...mine].map((nodeId) => ({
    label: `node #${nodeId}`,
    value: round(onMyNodes.filter((l) => l.nodeId === nodeId).reduce((sum, l) => sum + Number(l.paid ?? l.cost), 0)),
  }));
  const hours = [...mine].map((nodeId) => ({
    label: `node #${nodeId}`,
    value: round(
      onMyNodes
        .filter((l) => l.nodeId === nodeId)
        .reduce((sum, l) => sum + (Date.parse(l.end) - Date.parse(l.start)) / 1000 / HOUR, 0),
    ),
  }));
  return (
    <section aria-labelledby="nodes-title">
      <h1 id="nodes-title">My nodes</h1>
      <Table
        caption="Nodes"
        rows={nodes.data?.nodes}
        rowKey={(n) => n.nodeId}
        empty="No node yet. Register one below."
        columns={[
          ["Node", (n) => `#${n.nodeId}`],
          ["Size", (n) => `${n.resources.cores} cores, ${n.resources.memoryGiB} GiB, ${n.resources.storageGB} GB`],
          ["Description", (n) => n.attributes],
          ["Status", (n) => <NodeStatus node={n} onChange={nodes.reload} />],
        ]}
      />
      <Register agent={nodes.data?.nodes[0]?.agent ?? ""} onDone={nodes.reload} />
      <div className="charts">
        <BarChart title="Revenue per node (credits)" unit="credits" bars={revenue} />
        <BarChart title="Hours leased per node" unit="h" bars={hours} />
        <LineChart
          title="Revenue by day (credits)"
          unit="credits"
          points={byDay(
            onMyNodes,
            (l) => l.start,
            (l) => Number(l.paid ?? l.cost),
          )}
          xLabel={(x) => when(x).slice(0, 10)}
        />
      </div>
      {preempted === undefined ? null : <Notice kind="ok">{preempted}</Notice>}
      <Table
        caption="Leases on my nodes"
        rows={leases.data === undefined ? undefined : onMyNodes}
        rowKey={(l) => l.leaseId}
        empty="No lease on your nodes yet."
        columns={[
          ["Lease", (l) => `#${l.leaseId}`],
          ["Node", (l) => `#${l.nodeId}`],
          ["Runs", (l) => `${when(l.start)} to ${when(l.end)}`],
          ["State", (l) => <span className={`state ${l.status}`}>{l.status}</span>],
          ["Per hour", (l) => l.pricePerHour],
          [
            "",
            (l) =>
              l.status === "active" || l.status === "pending" ? (
                <Preempt
                  lease={l}
                  onDone={(outcome) => {
                    setPreempted(outcome);
                    leases.reload();
                  }}
                />
              ) : null,
          ],
        ]}
      />
    </section>
  );
}

/** What the register form asks for, with the shape of a common two-socket server as a start. */
const PROFILE_FIELDS = [
  ["cores", "Cores", 32],
  ["memoryGiB", "Memory (GiB)", 256],
  ["storageGB", "Storage (GB)", 2000],
  ["networkGbps", "Network (Gbps)", 25],
  ["gpus", "GPUs", 0],
] as const;
type Profile = Record<(typeof PROFILE_FIELDS)[number][0], number>;

/**
 * Registers a machine with the profile its owner gives. Reading it from the BMC happens on the
 * provider's own network (`market nodes enroll --bmc`): the gateway never reaches a BMC, and BMC
 * credentials never leave the provider.
 */
function Register(props: { agent: string; onDone: () => void }) {
  const { api } = useSession();
  const [profile, setProfile] = useState<Profile>(
    Object.fromEntries(PROFILE_FIELDS.map(([key, , start]) => [key, start])) as Profile,
  );
  const [description, setDescription] = useState("");
  const [agent, setAgent] = useState(props.agent);
  const register = useAction(async () => {
    const { node } = await api.post<{ node: Node }>("/nodes", {
      resources: { ...profile, arch: X86_64 },
      agent: agent === "" ? props.agent : agent,
      attributes: description,
    });
    props.onDone();
    return `Node #${node.nodeId} registered: ${node.resources.cores} cores, ${node.resources.memoryGiB} GiB.`;
  });
  return (
    <details className="panel">
      <summary>Register a machine</summary>
      <p className="hint">
        To read its profile from its BMC instead, run <code>market nodes enroll --bmc &lt;url&gt;</code> on your own
        network: BMC credentials never leave it.
      </p>
      <form aria-label="Register a machine" onSubmit={register.submit}>
        {PROFILE_FIELDS.map(([key, label]) => (
          <Field key={key} label={label}>
            <input
              type="number"
              required
              min={key === "cores" || key === "memoryGiB" ? 1 : 0}
              value={profile[key]}
              onChange={(e) => setProfile({ ...profile, [key]: Number(e.target.value) })}
            />
          </Field>
        ))}
        <Field label="Description" hint="Public: vendor, model, anything a buyer may filter on">
          <input maxLength={1000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Field label="Agent account" hint="The agent that will provision it">
          <input
            required
            pattern="^0x[0-9a-fA-F]{40}$"
            value={agent === "" ? props.agent : agent}
            onChange={(e) => setAgent(e.target.value)}
          />
        </Field>
        <button type="submit" disabled={register.busy}>
          {register.busy ? "Registering…" : "Register"}
        </button>
        {register.notice}
      </form>
    </details>
  );
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function NodeStatus(props: { node: Node; onChange: () => void }) {
  const { api } = useSession();
  const [status, setStatus] = useState(props.node.status);
  const [busy, setBusy] = useState(false);
  return (
    <span>
      <select
        aria-label={`Status of node ${props.node.nodeId}`}
        value={status}
        disabled={busy}
        onChange={(event) => {
          const next = event.target.value as Node["status"];
          setStatus(next);
          setBusy(true);
          api
            .post(`/nodes/${props.node.nodeId}/status`, { status: next })
            .then(props.onChange, () => setStatus(props.node.status))
            .finally(() => setBusy(false));
        }}
      >
        <option value="available">available</option>
        <option value="maintenance">maintenance</option>
        <option value="retired">retired</option>
      </select>
    </span>
  );
}

function Preempt(props: { lease: Lease; onDone: (outcome: string) => void }) {
  const { api } = useSession();
  const preempt = useAction(async () => {
    const { lease, endsAt } = await api.post<{ lease: Lease; endsAt: string }>(
      `/leases/${props.lease.leaseId}/preempt`,
    );
    const outcome = `Preempted lease #${lease.leaseId}: it ends at ${new Date(endsAt).toLocaleTimeString()}, after the notice; the buyer pays only for the time it ran.`;
    props.onDone(outcome);
    return outcome;
  });
  return (
    <form onSubmit={preempt.submit}>
      <button type="submit" className="danger" disabled={preempt.busy}>
        Preempt<span className="visually-hidden"> lease {props.lease.leaseId}</span> for maintenance
      </button>
      {preempt.notice}
    </form>
  );
}

/** The provider's offers, and a new one under any price model, with the market's price in view. */
export function Offers() {
  const { api, me, live } = useSession();
  const tenantId = me.user.tenantId ?? undefined;
  const offers = useLoad(() => api.get<{ offers: Offer[] }>("/offers", { tenantId }), [api, tenantId, live]);
  const nodes = useLoad(() => api.get<{ nodes: Node[] }>("/nodes", { tenantId }), [api, tenantId]);
  return (
    <section aria-labelledby="offers-title">
      <h1 id="offers-title">My offers</h1>
      <Table
        caption="Offers"
        rows={offers.data?.offers}
        rowKey={(o) => o.offerId}
        empty="No offer yet: list one below."
        columns={[
          ["Offer", (o) => `#${o.offerId}`],
          ["Node", (o) => `#${o.nodeId}`],
          ["Model", (o) => o.model],
          ["Per hour", (o) => o.pricePerHour ?? "sealed"],
          ["Runs", (o) => `${when(o.start)} to ${when(o.end)}`],
          ["Hours", (o) => (o.hours === null ? "any" : `${o.hours.from}:00 to ${o.hours.to}:00 UTC`)],
        ]}
      />
      {nodes.data === undefined ? null : <NewOffer nodes={nodes.data.nodes} onDone={offers.reload} />}
    </section>
  );
}

function NewOffer(props: { nodes: Node[]; onDone: () => void }) {
  const { api } = useSession();
  const first = props.nodes[0];
  const [nodeId, setNodeId] = useState(first?.nodeId ?? 0);
  const [model, setModel] = useState("fixed");
  const [price, setPrice] = useState("1");
  const [slice, setSlice] = useState("60");
  const [days, setDays] = useState("7");
  const [offPeak, setOffPeak] = useState(false);
  const [sealedReserve, setSealedReserve] = useState(true);
  const node = props.nodes.find((n) => n.nodeId === nodeId);
  const stats = useLoad(
    () =>
      node === undefined
        ? Promise.resolve(undefined)
        : api.get<{ overall: Stats }>("/market/prices", { cpu: node.resources.cores, ram: node.resources.memoryGiB }),
    [api, node],
  );
  const create = useAction(async () => {
    const start = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
    const { offer } = await api.post<{ offer: Offer }>("/offers", {
      nodeId,
      model,
      pricePerHour: price,
      start,
      end: start + Number(days) * 24 * HOUR,
      sliceSeconds: Number(slice) * 60,
      maxSlices: Math.max(1, Math.floor((24 * 60) / Number(slice))),
      ...(offPeak ? { hours: { from: 20, to: 6 } } : {}),
      ...(model === "auction" ? { sealedReserve } : {}),
    });
    props.onDone();
    return model === "auction" && sealedReserve
      ? `Offer #${offer.offerId} listed in round ${offer.roundId}; the gateway reveals its reserve when the round's bids are.`
      : `Offer #${offer.offerId} listed.`;
  });
  if (first === undefined) return <p className="empty">Register a node first.</p>;
  const overall = stats.data?.overall;
  return (
    <form className="panel" aria-label="New offer" onSubmit={create.submit}>
      <h2>List a node</h2>
      <Field label="Node">
        <select value={nodeId} onChange={(e) => setNodeId(Number(e.target.value))}>
          {props.nodes.map((n) => (
            <option key={n.nodeId} value={n.nodeId}>
              #{n.nodeId}: {n.resources.cores} cores, {n.resources.memoryGiB} GiB
            </option>
          ))}
        </select>
      </Field>
      <p className="hint" role="status">
        {overall === undefined || overall.sales === 0
          ? "No sales of this configuration in the last 30 days."
          : `This configuration sold ${overall.sales} times in 30 days: ${overall.average} per hour on average, ${overall.median} median, last ${overall.last}.`}
      </p>
      <Field label="Price model">
        <select value={model} onChange={(e) => setModel(e.target.value)}>
          <option value="fixed">fixed: book at once at your price</option>
          <option value="dynamic">dynamic: the price rises as it fills</option>
          <option value="auction">auction: sealed bids above your reserve</option>
        </select>
      </Field>
      <Field label={model === "auction" ? "Reserve (credits per hour)" : "Price (credits per hour)"}>
        <input inputMode="decimal" required value={price} onChange={(e) => setPrice(e.target.value)} />
      </Field>
      {model === "auction" ? (
        <label className="check">
          <input type="checkbox" checked={sealedReserve} onChange={(e) => setSealedReserve(e.target.checked)} /> Keep
          the reserve sealed until the round&apos;s bids are revealed (bidders cannot aim just above it)
        </label>
      ) : null}
      <Field label="Slice length (minutes)">
        <input type="number" min={1} required value={slice} onChange={(e) => setSlice(e.target.value)} />
      </Field>
      <Field label="For how many days">
        <input type="number" min={1} max={90} required value={days} onChange={(e) => setDays(e.target.value)} />
      </Field>
      <label className="check">
        <input type="checkbox" checked={offPeak} onChange={(e) => setOffPeak(e.target.checked)} /> Off-peak only (20:00
        to 06:00 UTC)
      </label>
      <button type="submit" disabled={create.busy}>
        {create.busy ? "Listing…" : "List offer"}
      </button>
      {create.notice}
    </form>
  );
}
