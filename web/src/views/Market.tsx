import { useState } from "react";

import { formatCredits } from "../../../sdk/units";
import type { Node, Slice } from "../api";
import { Field, Table, useAction, useLoad, when } from "../components/ui";
import { useSession } from "../session";
import { bookWithWallet, browserWallet, depositIfShort, parseCredits, type ChainInfo } from "../wallet";
import { commitWithWallet } from "../walletBids";

interface Filters {
  cpu: string;
  ram: string;
  model: string;
  maxPrice: string;
  start: string;
  end: string;
}

const toIso = (local: string) => (local === "" ? undefined : new Date(local).toISOString());

/** Free time-slices that fit the buyer's needs; book at the posted price or bid sealed. */
export function Market() {
  const { api, live } = useSession();
  const [draft, setDraft] = useState<Filters>({ cpu: "", ram: "", model: "", maxPrice: "", start: "", end: "" });
  const [filters, setFilters] = useState(draft);
  const [chosen, setChosen] = useState<Slice>();
  const [calendarOf, setCalendarOf] = useState<number>();
  const slices = useLoad(
    () =>
      api.get<{ slices: Slice[] }>("/timeslots", {
        cpu: filters.cpu,
        ram: filters.ram,
        model: filters.model,
        maxPrice: filters.maxPrice,
        start: toIso(filters.start),
        end: toIso(filters.end),
        limit: 50,
      }),
    [api, filters, live],
  );
  const nodes = useLoad(
    () => api.get<{ nodes: Node[] }>("/nodes", { cpu: filters.cpu, ram: filters.ram, status: "available" }),
    [api, filters],
  );
  // Only offers listed in the round taking bids now can win a bid.
  const round = useLoad(() => api.get<{ roundId: number; commitClosesAt: string }>("/rounds/current"), [api, live]);
  const biddable = (s: Slice) => s.model !== "auction" || s.roundId === round.data?.roundId;
  const set = (key: keyof Filters) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [key]: event.target.value });

  return (
    <section aria-labelledby="market-title">
      <h1 id="market-title">Free time-slices</h1>
      {round.data === undefined ? null : (
        <p className="hint">
          Sealed bids go into round {round.data.roundId}, which takes bids until {when(round.data.commitClosesAt)}.
        </p>
      )}
      <form
        className="filters"
        aria-label="Filter time-slices"
        onSubmit={(event) => {
          event.preventDefault();
          setFilters(draft);
        }}
      >
        <Field label="Cores (at least)">
          <input type="number" min={0} value={draft.cpu} onChange={set("cpu")} />
        </Field>
        <Field label="Memory GiB (at least)">
          <input type="number" min={0} value={draft.ram} onChange={set("ram")} />
        </Field>
        <Field label="Price model">
          <select value={draft.model} onChange={set("model")}>
            <option value="">any</option>
            <option value="fixed">fixed</option>
            <option value="dynamic">dynamic</option>
            <option value="auction">auction (sealed bids)</option>
          </select>
        </Field>
        <Field label="Most per hour (credits)">
          <input inputMode="decimal" value={draft.maxPrice} onChange={set("maxPrice")} />
        </Field>
        <Field label="From">
          <input type="datetime-local" value={draft.start} onChange={set("start")} />
        </Field>
        <Field label="Until">
          <input type="datetime-local" value={draft.end} onChange={set("end")} />
        </Field>
        <button type="submit">Search</button>
      </form>
      {slices.error === undefined ? null : <p role="alert">{slices.error}</p>}
      <Table
        caption="Free slices"
        rows={slices.data?.slices}
        rowKey={(s) => s.sliceId}
        empty="No free slice fits these needs. Try fewer cores, another time, or any price model."
        columns={[
          ["Starts", (s) => when(s.start)],
          ["Node", (s) => `#${s.nodeId}: ${s.resources.cores} cores, ${s.resources.memoryGiB} GiB`],
          ["Slice", (s) => `${s.sliceSeconds / 60} min`],
          ["Model", (s) => s.model],
          ["Per hour", (s) => s.pricePerHour ?? "sealed"],
          [
            "",
            (s) => (
              <span className="actions">
                {biddable(s) ? (
                  <button type="button" onClick={() => setChosen(s)}>
                    {s.model === "auction" ? "Bid" : "Book"}
                    <span className="visually-hidden"> slice {s.sliceId}</span>
                  </button>
                ) : (
                  <span className="hint">not in this round's auction</span>
                )}
                <button type="button" className="secondary" onClick={() => setCalendarOf(s.nodeId)}>
                  Calendar<span className="visually-hidden"> of node {s.nodeId}</span>
                </button>
              </span>
            ),
          ],
        ]}
      />
      {chosen === undefined ? null : <Request slice={chosen} onDone={slices.reload} />}
      <Table
        caption="Nodes that fit"
        rows={nodes.data?.nodes}
        rowKey={(n) => n.nodeId}
        empty="No node has that many cores and that much memory."
        columns={[
          ["Node", (n) => `#${n.nodeId}`],
          ["Size", (n) => `${n.resources.cores} cores, ${n.resources.memoryGiB} GiB, ${n.resources.storageGB} GB`],
          ["Network", (n) => `${n.resources.networkGbps} Gbps`],
          ["Description", (n) => n.attributes],
          ["Status", (n) => n.status],
          [
            "",
            (n) => (
              <button type="button" className="secondary" onClick={() => setCalendarOf(n.nodeId)}>
                Calendar<span className="visually-hidden"> of node {n.nodeId}</span>
              </button>
            ),
          ],
        ]}
      />
      {calendarOf === undefined ? null : <Calendar nodeId={calendarOf} />}
    </section>
  );
}

function Request(props: { slice: Slice; onDone: () => void }) {
  const { api, me, refreshMe } = useSession();
  const { slice } = props;
  const auction = slice.model === "auction";
  const [minutes, setMinutes] = useState(String((slice.sliceSeconds / 60) * slice.minSlices));
  const [bid, setBid] = useState(slice.pricePerHour ?? "");
  const [image, setImage] = useState("");
  const action = useAction(async () => {
    const wallet = browserWallet();
    if (!me.user.custodial) {
      // A wallet user signs their own booking; the gateway never holds their key.
      if (wallet === undefined)
        throw new Error("your account signs its own transactions: open the portal with your wallet");
      const chain = await api.get<ChainInfo>("/chain");
      if (auction) {
        if (bid === "") throw new Error("an auction needs your sealed bid (credits per hour)");
        const durationSeconds = Number(minutes) * 60;
        const sealed = await commitWithWallet({
          wallet,
          chain,
          from: me.user.address,
          offerId: slice.offerId,
          start: Date.parse(slice.start) / 1000,
          durationSeconds,
          pricePerHour: bid,
          image: image === "" ? chain.defaultImage : image,
          spendable: parseCredits(me.credits.available) + parseCredits(me.credits.wallet),
          fund: (deposit) =>
            depositIfShort({
              wallet,
              chain,
              from: me.user.address,
              available: me.credits.available,
              held: me.credits.wallet,
              cost: Number(formatCredits(deposit)),
            }),
        });
        refreshMe();
        return `Sealed with your wallet in round ${sealed.terms.roundId}. Keep the portal open under My bids: it reveals the bid in its window.`;
      }
      const slices = Math.round((Number(minutes) * 60) / slice.sliceSeconds);
      const price = bid === "" ? (slice.pricePerHour ?? "0") : bid;
      const hash = await bookWithWallet({
        wallet,
        chain,
        from: me.user.address,
        offerId: slice.offerId,
        start: Date.parse(slice.start) / 1000,
        slices,
        maxPricePerHour: price,
        image: image === "" ? chain.defaultImage : image,
        available: me.credits.available,
        held: me.credits.wallet,
        cost: (Number(price) * Number(minutes)) / 60,
      });
      refreshMe();
      props.onDone();
      return `Booked with your wallet (transaction ${hash.slice(0, 10)}…). Follow it under My leases.`;
    }
    const answer = await api.post<{ kind: string; lease?: { leaseId: number }; bid?: { revealOpensAt: string } }>(
      `/timeslots/${slice.sliceId}/request`,
      {
        duration: Number(minutes),
        ...(bid === "" ? {} : { bid }),
        ...(image === "" ? {} : { image }),
      },
    );
    refreshMe();
    props.onDone();
    return answer.kind === "lease"
      ? `Booked: lease ${answer.lease?.leaseId}. Follow it under My leases.`
      : `Sealed bid placed. The gateway reveals it for you from ${when(answer.bid?.revealOpensAt ?? "")}.`;
  });
  return (
    <form className="panel" aria-label={`Request slice ${slice.sliceId}`} onSubmit={action.submit}>
      <h2>
        {auction ? "Bid for" : "Book"} node #{slice.nodeId} from {when(slice.start)}
      </h2>
      <Field
        label="Duration (minutes)"
        hint={`${slice.sliceSeconds / 60}-minute slices, ${slice.minSlices} to ${slice.maxSlices}`}
      >
        <input type="number" required min={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
      </Field>
      <Field
        label={auction ? "Your sealed bid (credits per hour)" : "The most you pay per hour"}
        hint={auction ? "Nobody sees it before the reveal window" : "A price rise in flight cannot catch you"}
      >
        <input inputMode="decimal" required={auction} value={bid} onChange={(e) => setBid(e.target.value)} />
      </Field>
      <Field label="Image to boot (URL)" hint="Leave empty for the market's default image">
        <input type="url" value={image} onChange={(e) => setImage(e.target.value)} />
      </Field>
      <button type="submit" disabled={action.busy}>
        {action.busy ? "Sending…" : auction ? "Place sealed bid" : "Book now"}
      </button>
      {action.notice}
    </form>
  );
}

/** A node's week: booked stretches, so a buyer can plan around them. */
function Calendar(props: { nodeId: number }) {
  const { api, live } = useSession();
  const calendar = useLoad(
    () =>
      api.get<{ start: string; end: string; booked: { start: string; end: string }[] }>(
        `/nodes/${props.nodeId}/calendar`,
      ),
    [api, props.nodeId, live],
  );
  const data = calendar.data;
  if (data === undefined) return <p className="loading">Loading the calendar…</p>;
  const [from, to] = [Date.parse(data.start), Date.parse(data.end)];
  const share = (t: string) => ((Date.parse(t) - from) / (to - from)) * 100;
  return (
    <section className="panel" aria-label={`Calendar of node ${props.nodeId}`}>
      <h2>Node #{props.nodeId}: the next seven days</h2>
      <div className="timeline" aria-hidden="true">
        {data.booked.map((b) => (
          <span
            key={b.start}
            className="booked"
            style={{ left: `${share(b.start)}%`, width: `${share(b.end) - share(b.start)}%` }}
          />
        ))}
      </div>
      {data.booked.length === 0 ? (
        <p>Free all week.</p>
      ) : (
        <ul>
          {data.booked.map((b) => (
            <li key={b.start}>
              Booked {when(b.start)} to {when(b.end)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
