import { useState } from "react";

import { createApi, explain } from "../api";
import { Field, Notice } from "../components/ui";
import { browserWallet, signInWithWallet } from "../wallet";

/** Sign in with email and password, or with an API key. */
export function Login(props: { error: string | undefined; onToken: (token: string) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setError(undefined);
    try {
      props.onToken(await work());
    } catch (failure) {
      setError(explain(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" className="login">
      <h1>Metalmarket</h1>
      <p>Rent bare-metal nodes and time-slices in your data centre.</p>
      {props.error === undefined ? null : <Notice kind="error">{props.error}</Notice>}
      {error === undefined ? null : <Notice kind="error">{error}</Notice>}
      <form
        aria-label="Sign in with email"
        onSubmit={(event) => {
          event.preventDefault();
          void run(
            async () => (await createApi(undefined).post<{ token: string }>("/auth/login", { email, password })).token,
          );
        }}
      >
        <h2>Sign in</h2>
        <Field label="Email">
          <input
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </Field>
        <Field label="Password">
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {browserWallet() === undefined ? null : (
        <section aria-label="Sign in with a wallet" className="login-wallet">
          <h2>Or your browser wallet</h2>
          <p className="hint">For accounts that sign their own transactions: your key never leaves your wallet.</p>
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              const wallet = browserWallet();
              if (wallet !== undefined) void run(() => signInWithWallet(createApi(undefined), wallet));
            }}
          >
            Sign in with your wallet
          </button>
        </section>
      )}
      <form
        aria-label="Sign in with an API key"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            await createApi(apiKey.trim()).get("/me");
            return apiKey.trim();
          });
        }}
      >
        <h2>Or use an API key</h2>
        <Field label="API key" hint="mm_… as your administrator gave it to you">
          <input type="password" required value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
        </Field>
        <button type="submit" disabled={busy}>
          Use API key
        </button>
      </form>
    </main>
  );
}
