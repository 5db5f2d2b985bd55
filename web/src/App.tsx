import { useCallback, useEffect, useMemo, useState } from "react";

import { createApi, explain, type Me, type Notification, type Role } from "./api";
import { Notice } from "./components/ui";
import { SessionContext, storedToken, type Session } from "./session";
import { Admin, Audit, Overview } from "./views/Admin";
import { Bids, Credits, Leases } from "./views/Buyer";
import { Login } from "./views/Login";
import { Market } from "./views/Market";
import { Nodes, Offers } from "./views/Owner";

interface Page {
  path: string;
  title: string;
  roles: readonly Role[];
  view: () => React.JSX.Element;
}

/** The portal's pages, and who sees each: users, owners (providers) and staff. */
const PAGES: readonly Page[] = [
  { path: "market", title: "Market", roles: ["buyer", "tenantAdmin", "admin"], view: Market },
  { path: "leases", title: "My leases", roles: ["buyer", "tenantAdmin"], view: Leases },
  { path: "bids", title: "My bids", roles: ["buyer"], view: Bids },
  { path: "credits", title: "Credits", roles: ["buyer", "provider", "tenantAdmin"], view: Credits },
  { path: "nodes", title: "My nodes", roles: ["provider"], view: Nodes },
  { path: "offers", title: "My offers", roles: ["provider"], view: Offers },
  { path: "admin", title: "Tenants & credits", roles: ["admin"], view: Admin },
  { path: "overview", title: "Market overview", roles: ["admin", "auditor"], view: Overview },
  { path: "audit", title: "Audit trail", roles: ["admin", "auditor", "tenantAdmin"], view: Audit },
];

const NOTIFICATIONS_KEPT = 5;
/** The newest notifications stay in view; one event often brings two (a bid won, its lease made). */
const TOASTS_SHOWN = 3;

/** Where each kind of user starts: their main work. */
const LANDING: readonly [Role, string][] = [
  ["admin", "admin"],
  ["auditor", "overview"],
  ["provider", "nodes"],
  ["buyer", "market"],
];

function useHashPath(): string {
  const read = () => window.location.hash.replace(/^#\/?/, "");
  const [path, setPath] = useState(read);
  useEffect(() => {
    const changed = () => setPath(read());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return path;
}

export function App() {
  const [token, setToken] = useState(storedToken.read);
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<string>();
  const [notifications, setNotifications] = useState<Notification[]>([]);
  const [live, setLive] = useState(0);
  const api = useMemo(() => createApi(token), [token]);
  const path = useHashPath();

  const refreshMe = useCallback(() => {
    if (token === undefined) return;
    api.get<Me>("/me").then(setMe, (failure: unknown) => {
      setError(explain(failure));
      storedToken.clear();
      setToken(undefined);
    });
  }, [api, token]);
  useEffect(refreshMe, [refreshMe]);

  // Notifications stream for as long as someone is signed in (not again on every balance refresh);
  // a dropped stream comes back.
  const userId = me?.user.userId;
  useEffect(() => {
    if (userId === undefined) return;
    const stop = new AbortController();
    const follow = async () => {
      while (!stop.signal.aborted) {
        await api
          .notifications(stop.signal, (n) => {
            setNotifications((list) => [n, ...list].slice(0, NOTIFICATIONS_KEPT));
            setLive((v) => v + 1);
          })
          .catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    };
    void follow();
    return () => stop.abort();
  }, [api, userId]);

  if (token === undefined || me === undefined) {
    return (
      <Login
        error={error}
        onToken={(next) => {
          storedToken.write(next);
          setError(undefined);
          setToken(next);
        }}
      />
    );
  }

  const pages = PAGES.filter((page) => page.roles.some((role) => me.user.roles.includes(role)));
  const landing = LANDING.find(([role]) => me.user.roles.includes(role))?.[1];
  const page = pages.find((p) => p.path === path) ?? pages.find((p) => p.path === landing) ?? pages[0];
  const session: Session = {
    api,
    me,
    live,
    notifications,
    refreshMe,
    signOut: () => {
      void api.post("/auth/logout").catch(() => undefined);
      storedToken.clear();
      setMe(undefined);
      setToken(undefined);
    },
  };
  const View = page?.view;
  return (
    <SessionContext.Provider value={session}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <strong className="brand">Metalmarket</strong>
        <nav aria-label="Portal">
          {pages.map((p) => (
            <a key={p.path} href={`#/${p.path}`} aria-current={p === page ? "page" : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <span className="who">
          {me.user.name} · {me.credits.available} credits
          <button type="button" className="link" onClick={session.signOut}>
            Sign out
          </button>
        </span>
      </header>
      <div aria-live="polite" className="toasts">
        {notifications.slice(0, TOASTS_SHOWN).map((n) => (
          <Notice key={n.id} kind="ok">
            {describe(n)}
          </Notice>
        ))}
      </div>
      <main id="main">
        {View === undefined ? <p className="empty">Your roles give you no page here.</p> : <View />}
      </main>
    </SessionContext.Provider>
  );
}

/** A notification in the users' words. */
export function describe(n: Notification): string {
  const lease = n.data.leaseId === undefined ? "" : ` ${String(n.data.leaseId)}`;
  switch (n.type) {
    case "lease.created":
      return `Lease${lease} made.`;
    case "lease.provisioned":
      return `Lease${lease} is ready: its node is up.`;
    case "lease.ended":
      return `Lease${lease} ended.`;
    case "lease.refunded":
      return `Lease${lease}: credits refunded.`;
    case "lease.failed":
      return `Lease${lease} failed; your credits come back.`;
    case "lease.preempted":
      return `Lease${lease} is being taken back by its owner: it ends at ${new Date(String(n.data.endsAt)).toLocaleTimeString()}; you pay only for the time it ran.`;
    case "credits.granted":
      return "Credits granted to you.";
    case "credits.request.decided":
      return "Your credit request was decided.";
    case "bid.matched":
      return `Your sealed bid won: lease${lease}.`;
    case "bid.unmatched":
      return "Your sealed bid did not win; its deposit is free again.";
    case "node.held":
      return `Node #${String(n.data.nodeId)} was taken out of the market by its agent: ${String(n.data.reason)}.`;
    default:
      return `${n.type}${lease}.`;
  }
}
