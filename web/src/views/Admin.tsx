import { useState } from "react";

import type { AuditRecord, CreditRequest, Offer, Role, Tenant, User } from "../api";
import { LineChart } from "../components/Chart";
import { Field, Notice, Table, useAction, useLoad, when } from "../components/ui";
import { useSession } from "../session";

/** Tenants and users, granting and taking credits, credit requests, dormant offers. */
export function Admin() {
  const { api, live } = useSession();
  const tenants = useLoad(() => api.get<{ tenants: Tenant[] }>("/tenants"), [api, live]);
  const users = useLoad(() => api.get<{ users: User[] }>("/users"), [api, live]);
  const requests = useLoad(
    () => api.get<{ requests: CreditRequest[] }>("/credits/requests", { status: "pending" }),
    [api, live],
  );
  const dormant = useLoad(() => api.get<{ offers: Offer[] }>("/offers", { dormantFor: "12h" }), [api, live]);
  // A decided request leaves the table at once, so its outcome is told above it.
  const [decided, setDecided] = useState<string>();
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Tenants & credits</h1>
      <Table
        caption="Tenants"
        rows={tenants.data?.tenants}
        rowKey={(t) => t.tenantId}
        empty="No tenant yet."
        columns={[
          ["Tenant", (t) => `#${t.tenantId} ${t.name}`],
          ["Status", (t) => t.status],
          ["Members", (t) => t.members],
          ["Nodes", (t) => t.nodes],
        ]}
      />
      <Table
        caption="Users"
        rows={users.data?.users}
        rowKey={(u) => u.userId}
        empty="No user yet."
        columns={[
          ["Name", (u) => u.name],
          ["Email", (u) => u.email],
          ["Tenant", (u) => (u.tenantId === null ? "staff" : `#${u.tenantId}`)],
          ["Roles", (u) => u.roles.join(", ")],
        ]}
      />
      <div className="charts">
        <NewTenant onDone={tenants.reload} />
        {tenants.data === undefined ? null : <NewUser tenants={tenants.data.tenants} onDone={users.reload} />}
      </div>
      {users.data === undefined ? null : <Grant users={users.data.users} />}
      <h2>Credit requests waiting</h2>
      {decided === undefined ? null : <Notice kind="ok">{decided}</Notice>}
      <Table
        caption="Pending credit requests"
        rows={requests.data?.requests}
        rowKey={(r) => r.requestId}
        empty="No request waiting."
        columns={[
          ["Request", (r) => `#${r.requestId}`],
          [
            "From",
            (r) =>
              users.data?.users.find((u) => u.address.toLowerCase() === r.requester.toLowerCase())?.email ??
              r.requester,
          ],
          ["Amount", (r) => r.amount],
          ["Reason", (r) => r.reason],
          [
            "",
            (r) => (
              <Decide
                request={r}
                onDone={(outcome) => {
                  setDecided(outcome);
                  requests.reload();
                }}
              />
            ),
          ],
        ]}
      />
      <h2>Dormant offers</h2>
      <Table
        caption="Offers unsold for 12 hours"
        rows={dormant.data?.offers}
        rowKey={(o) => o.offerId}
        empty="Every open offer sold in the last 12 hours."
        columns={[
          ["Offer", (o) => `#${o.offerId}`],
          ["Node", (o) => `#${o.nodeId}`],
          ["Tenant", (o) => `#${o.tenantId}`],
          ["Model", (o) => o.model],
          ["Per hour", (o) => o.pricePerHour ?? "sealed"],
        ]}
      />
    </section>
  );
}

function NewTenant(props: { onDone: () => void }) {
  const { api } = useSession();
  const [name, setName] = useState("");
  const create = useAction(async () => {
    const { tenant } = await api.post<{ tenant: Tenant }>("/tenants", { name });
    setName("");
    props.onDone();
    return `Tenant #${tenant.tenantId} (${tenant.name}) created.`;
  });
  return (
    <form className="panel" aria-label="New tenant" onSubmit={create.submit}>
      <h2>New tenant</h2>
      <Field label="Organisation's name">
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <button type="submit" disabled={create.busy}>
        {create.busy ? "Creating…" : "Create tenant"}
      </button>
      {create.notice}
    </form>
  );
}

const TENANT_ROLES: readonly Role[] = ["buyer", "provider", "tenantAdmin"];
const STAFF_ROLES: readonly Role[] = ["admin", "auditor"];

function NewUser(props: { tenants: Tenant[]; onDone: () => void }) {
  const { api } = useSession();
  const [tenantId, setTenantId] = useState(props.tenants[0]?.tenantId ?? 0);
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [roles, setRoles] = useState<Role[]>(["buyer"]);
  const staff = tenantId === 0;
  const choices = staff ? STAFF_ROLES : TENANT_ROLES;
  const create = useAction(async () => {
    const chosen = roles.filter((role) => choices.includes(role));
    const body = { name, email, roles: chosen, ...(password === "" ? {} : { password }) };
    const { apiKey } = await api.post<{ apiKey: string }>(staff ? "/users" : `/tenants/${tenantId}/users`, body);
    setName("");
    setEmail("");
    setPassword("");
    props.onDone();
    return `${email} created. Their API key, shown once: ${apiKey}`;
  });
  return (
    <form className="panel" aria-label="New user" onSubmit={create.submit}>
      <h2>New user</h2>
      <Field label="Belongs to">
        <select value={tenantId} onChange={(e) => setTenantId(Number(e.target.value))}>
          {props.tenants.map((t) => (
            <option key={t.tenantId} value={t.tenantId}>
              {t.name}
            </option>
          ))}
          <option value={0}>the market's staff</option>
        </select>
      </Field>
      <Field label="Name">
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="Email">
        <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </Field>
      <Field label="Portal password" hint="At least 8 characters; leave empty for an API key only">
        <input type="password" minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      <fieldset>
        <legend>Roles</legend>
        {choices.map((role) => (
          <label key={role} className="check">
            <input
              type="checkbox"
              checked={roles.includes(role)}
              onChange={(e) => setRoles(e.target.checked ? [...roles, role] : roles.filter((r) => r !== role))}
            />{" "}
            {role}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={create.busy}>
        {create.busy ? "Creating…" : "Create user"}
      </button>
      {create.notice}
    </form>
  );
}

function Grant(props: { users: User[] }) {
  const { api } = useSession();
  const [userId, setUserId] = useState(props.users[0]?.userId ?? "");
  const [amount, setAmount] = useState("");
  const [memo, setMemo] = useState("");
  const [verb, setVerb] = useState<"grant" | "take">("grant");
  const action = useAction(async () => {
    const { balance } = await api.post<{ balance: { available: string; wallet: string } }>(`/credits/${verb}`, {
      userId,
      amount,
      memo,
    });
    setAmount("");
    return `Done. They now hold ${balance.wallet} in their wallet and ${balance.available} available.`;
  });
  return (
    <form className="panel" aria-label="Grant or take credits" onSubmit={action.submit}>
      <h2>Grant or take credits</h2>
      <Field label="User">
        <select value={userId} onChange={(e) => setUserId(e.target.value)}>
          {props.users.map((u) => (
            <option key={u.userId} value={u.userId}>
              {u.name} ({u.email})
            </option>
          ))}
        </select>
      </Field>
      <Field label="Grant or take">
        <select value={verb} onChange={(e) => setVerb(e.target.value as "grant" | "take")}>
          <option value="grant">grant</option>
          <option value="take">take</option>
        </select>
      </Field>
      <Field label="Amount (credits)">
        <input inputMode="decimal" required value={amount} onChange={(e) => setAmount(e.target.value)} />
      </Field>
      <Field label="Memo (for the audit trail)">
        <input maxLength={200} value={memo} onChange={(e) => setMemo(e.target.value)} />
      </Field>
      <button type="submit" disabled={action.busy}>
        {action.busy ? "Sending…" : verb === "grant" ? "Grant" : "Take"}
      </button>
      {action.notice}
    </form>
  );
}

function Decide(props: { request: CreditRequest; onDone: (outcome: string) => void }) {
  const { api } = useSession();
  const { requestId, amount } = props.request;
  const approve = useAction(async () => {
    await api.post(`/credits/requests/${requestId}/approve`);
    props.onDone(`Approved: request #${requestId}, ${amount} credits granted.`);
    return "Approved.";
  });
  const reject = useAction(async () => {
    await api.post(`/credits/requests/${requestId}/reject`, { reason: "not now" });
    props.onDone(`Rejected: request #${requestId}.`);
    return "Rejected.";
  });
  return (
    <span className="actions">
      <button type="button" disabled={approve.busy} onClick={() => void approve.submit()}>
        Approve<span className="visually-hidden"> request {props.request.requestId}</span>
      </button>
      <button type="button" className="secondary" disabled={reject.busy} onClick={() => void reject.submit()}>
        Reject<span className="visually-hidden"> request {props.request.requestId}</span>
      </button>
      {approve.notice}
      {reject.notice}
    </span>
  );
}

interface Overview {
  tenants: number;
  nodes: number;
  openOffers: number;
  activeLeases: number;
  volume: string;
  days: { day: string; sales: number; volume: string; averagePricePerHour: string | null }[];
}

/** The market at a glance: counts, volume, clearing prices over time. */
export function Overview() {
  const { api, live } = useSession();
  const overview = useLoad(() => api.get<Overview>("/market/overview"), [api, live]);
  const data = overview.data;
  if (data === undefined) return <p className="loading">Loading the market overview…</p>;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Market overview</h1>
      <dl className="facts">
        <dt>Tenants</dt>
        <dd>{data.tenants}</dd>
        <dt>Nodes</dt>
        <dd>{data.nodes}</dd>
        <dt>Open offers</dt>
        <dd>{data.openOffers}</dd>
        <dt>Active leases</dt>
        <dd>{data.activeLeases}</dd>
        <dt>Volume (30 days)</dt>
        <dd>{data.volume} credits</dd>
      </dl>
      <div className="charts">
        <LineChart
          title="Average price per hour, by day"
          unit="credits"
          points={data.days
            .filter((d) => d.averagePricePerHour !== null)
            .map((d) => ({ x: Date.parse(d.day) / 1000, y: Number(d.averagePricePerHour) }))}
          xLabel={(x) => when(x).slice(0, 10)}
        />
        <LineChart
          title="Volume, by day"
          unit="credits"
          points={data.days.map((d) => ({ x: Date.parse(d.day) / 1000, y: Number(d.volume) }))}
          xLabel={(x) => when(x).slice(0, 10)}
        />
      </div>
    </section>
  );
}

/** The audit trail, filtered, with export. */
export function Audit() {
  const { api, live } = useSession();
  const [type, setType] = useState("");
  const [lease, setLease] = useState("");
  const [filters, setFilters] = useState({ type: "", lease: "" });
  const query = { type: filters.type, lease: filters.lease, limit: 100 };
  const events = useLoad(() => api.get<{ events: AuditRecord[] }>("/audit/events", query), [api, filters, live]);
  const download = useAction(async () => {
    const blob = await api.blob("/audit/events", { ...query, limit: undefined, format: "csv" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "metalmarket-audit.csv";
    link.click();
    URL.revokeObjectURL(link.href);
    return `Exported ${Math.max(0, (await blob.text()).trim().split("\n").length - 1)} events.`;
  });
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit trail</h1>
      <form
        className="filters"
        aria-label="Filter the audit trail"
        onSubmit={(event) => {
          event.preventDefault();
          setFilters({ type, lease });
        }}
      >
        <Field label="Event names" hint="comma-separated, e.g. LeaseCreated,LeaseEnded">
          <input value={type} onChange={(e) => setType(e.target.value)} />
        </Field>
        <Field label="Lease">
          <input type="number" min={1} value={lease} onChange={(e) => setLease(e.target.value)} />
        </Field>
        <button type="submit">Filter</button>
        <button type="button" className="secondary" disabled={download.busy} onClick={() => void download.submit()}>
          {download.busy ? "Exporting…" : "Export CSV"}
        </button>
      </form>
      {download.notice}
      {events.error === undefined ? null : <p role="alert">{events.error}</p>}
      <Table
        caption="Events, oldest first"
        rows={events.data?.events}
        rowKey={(e) => e.id}
        empty="No event matches."
        columns={[
          ["Block", (e) => e.blockNumber],
          ["Time", (e) => when(e.timestamp)],
          ["Event", (e) => e.event],
          ["Details", (e) => <code>{JSON.stringify(e.args)}</code>],
          ["Tx", (e) => <code title={e.txHash}>{e.txHash.slice(0, 10)}…</code>],
        ]}
      />
    </section>
  );
}
