/**
 * Page-wide state without a state library: the hash route, the live generation of each source (from
 * the server's event stream), and each project's table settings kept across page changes.
 */
import { useEffect, useState } from "preact/hooks";
import type { SourceInfo } from "./api.js";

type Listener = () => void;

function store<T>(initial: T) {
  let value = initial;
  const listeners = new Set<Listener>();
  return {
    get: () => value,
    set(next: T) {
      value = next;
      for (const l of listeners) l();
    },
    subscribe(l: Listener) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

function useStore<T>(s: ReturnType<typeof store<T>>): T {
  const [, force] = useState(0);
  useEffect(() => s.subscribe(() => force((n) => n + 1)), [s]);
  return s.get();
}

/** `#/p/runs/e/slug?x=1` → path parts and query. */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function parseHash(): Route {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path = "", query = ""] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

const route = store<Route>(parseHash());
addEventListener("hashchange", () => route.set(parseHash()));
export const useRoute = () => useStore(route);

export function href(parts: string[], query?: Record<string, string>): string {
  const q = query ? new URLSearchParams(query).toString() : "";
  return `#/${parts.map(encodeURIComponent).join("/")}${q ? `?${q}` : ""}`;
}

const generations = store<Record<string, number>>({});
const connection = store<"connecting" | "live" | "offline">("connecting");
const lastChange = store<string>("");

/** Follow the server's event stream; each change bumps that source's generation, and pages refetch. */
export function connectEvents(onSources: (sources: SourceInfo[]) => void): void {
  const events = new EventSource("/api/events");
  events.addEventListener("hello", (e) => {
    const { sources } = JSON.parse((e as MessageEvent<string>).data) as { sources: SourceInfo[] };
    generations.set(Object.fromEntries(sources.map((s) => [`${s.kind}:${s.id}`, s.generation])));
    connection.set("live");
    onSources(sources);
  });
  events.addEventListener("change", (e) => {
    const change = JSON.parse((e as MessageEvent<string>).data) as { kind: string; id: string; generation: number };
    generations.set({ ...generations.get(), [`${change.kind}:${change.id}`]: change.generation });
    lastChange.set(`${change.id} changed at ${new Date().toLocaleTimeString()}`);
  });
  events.addEventListener("error", () => connection.set("offline"));
  events.addEventListener("open", () => connection.set("live"));
}

export const useGeneration = (kind: string, id: string): number => useStore(generations)[`${kind}:${id}`] ?? 0;
export const useConnection = () => useStore(connection);
export const useLastChange = () => useStore(lastChange);

/** What the experiments table of one project remembers while the user visits other pages. */
export interface TableState {
  filter: string;
  sort: { key: string; descending: boolean } | null;
  columns: string[] | null;
  selected: string[];
  scrollTop: number;
}

const tables = new Map<string, TableState>();
export function tableState(id: string): TableState {
  let s = tables.get(id);
  if (!s) tables.set(id, (s = { filter: "", sort: null, columns: null, selected: [], scrollTop: 0 }));
  return s;
}

/** Fetch when the key or the source's generation changes; keeps the last data while reloading. */
export function useFetch<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: Error | undefined; loading: boolean } {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: Error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, deps);
  return state;
}
