import { createContext, useContext } from "react";

import type { Api, Me, Notification } from "./api";

const TOKEN_KEY = "metalmarket.token";

/** Who is signed in, their client, and the notifications that came in while they were. */
export interface Session {
  api: Api;
  me: Me;
  /** Goes up by one with every notification: views that show live state reload on it. */
  live: number;
  notifications: readonly Notification[];
  refreshMe(): void;
  signOut(): void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error("no session");
  return session;
}

/** The token lives for the browser tab only: closing it signs out. */
export const storedToken = {
  read: () => sessionStorage.getItem(TOKEN_KEY) ?? undefined,
  write: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};
