import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from "react";

import { explain } from "../api";

/** A labelled form field: every input has a visible label, and hints are tied to it. */
export function Field(props: { label: string; hint?: string; children: ReactNode }) {
  return (
    <label className="field">
      <span>{props.label}</span>
      {props.children}
      {props.hint === undefined ? null : <small>{props.hint}</small>}
    </label>
  );
}

/** An outcome for the person: polite for success, assertive for errors. */
export function Notice(props: { kind: "ok" | "error"; children: ReactNode }) {
  return (
    <p className={`notice ${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </p>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  reload: () => void;
}

/** Loads `read()` and again on `reload()`; the page stays usable while it loads. */
export function useLoad<T>(read: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const stable = useCallback(read, deps);
  useEffect(() => {
    let current = true;
    stable().then(
      (value) => current && (setData(value), setError(undefined)),
      (failure: unknown) => current && setError(explain(failure)),
    );
    return () => {
      current = false;
    };
  }, [stable, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}

/**
 * A form's submit: runs `action`, shows its outcome, keeps the form usable. Long work does not
 * block the page: the button says what is happening.
 */
export function useAction(action: () => Promise<string>) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ kind: "ok" | "error"; text: string }>();
  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    setBusy(true);
    setOutcome(undefined);
    try {
      setOutcome({ kind: "ok", text: await action() });
    } catch (error) {
      setOutcome({ kind: "error", text: explain(error) });
    } finally {
      setBusy(false);
    }
  };
  const notice = outcome === undefined ? null : <Notice kind={outcome.kind}>{outcome.text}</Notice>;
  return { busy, submit, notice };
}

export function when(iso: string | number): string {
  const date = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
  return date.toISOString().slice(0, 16).replace("T", " ");
}

/** A table with a caption; an empty list says so instead of showing nothing. */
export function Table<T>(props: {
  caption: string;
  rows: readonly T[] | undefined;
  columns: readonly [string, (row: T) => ReactNode][];
  rowKey: (row: T) => string | number;
  empty: string;
}) {
  if (props.rows === undefined) return <p className="loading">Loading {props.caption.toLowerCase()}…</p>;
  if (props.rows.length === 0) return <p className="empty">{props.empty}</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map(([header]) => (
              <th key={header} scope="col">
                {header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)}>
              {props.columns.map(([header, cell]) => (
                <td key={header} data-label={header}>
                  {cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
