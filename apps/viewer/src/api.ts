/** The server's JSON API (packages/labbook/src/ui/api.ts), fetched over HTTP: the page imports nothing of labbook. */

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

export interface SourceInfo {
  id: string;
  kind: "project" | "repository";
  path: string;
  generation: number;
}

export interface Row {
  slug: string;
  short_slug: string;
  name: string;
  author: string;
  created_at: string;
  last_updated: string;
  tags: string[];
  metrics: Record<string, number | string>;
  parameters: Record<string, Value>;
  tests: number;
  artifacts: number;
  dependencies: number;
  history: boolean;
  report: boolean;
}

export interface ArtifactEntry {
  name: string;
  fname: string;
  handler: string;
  version: number;
  created_at: string;
  expiry: string | null;
  size?: number;
  sha256?: string;
}

export interface TestRecord {
  name: string;
  description: string | null;
  metrics: Record<string, number | string>;
  parameters: Record<string, Value>;
  artifacts: ArtifactEntry[];
}

export interface ExperimentRecord {
  name: string;
  slug: string;
  short_slug: string;
  author: string;
  created_at: string;
  last_updated: string;
  last_updated_by: string;
  tags: string[];
  metrics: Record<string, number | string>;
  parameters: Record<string, Value>;
  dependencies: string[];
  tests: TestRecord[];
  artifacts: ArtifactEntry[];
}

export interface Detail {
  generation: number;
  experiment: ExperimentRecord;
  location: string;
  dependencies: Array<{ raw: string; project: string; slug: string; link?: string }>;
  artifacts: Array<ArtifactEntry & { test: string | null }>;
}

export interface Series {
  steps: number[];
  values: number[];
  times: number[];
}

export interface CompareData {
  generation: number;
  experiments: ExperimentRecord[];
  history: Record<string, Record<string, Series>>;
}

export interface RepositoryData {
  generation: number;
  path: string;
  names: string[];
  entries: ArtifactEntry[];
  releases: Array<{ tag: string; created_at: string; artifacts: [string, number][] }>;
}

/** An error the server reported: its code and message (a filter error points at the column). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function getJson<T>(url: string): Promise<T> {
  // No custom headers: the page's first list request must match the preload link in index.html.
  const res = await fetch(url);
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) throw new ApiError(body.error?.code ?? "HTTP", body.error?.message ?? `${res.status} ${res.statusText}`, res.status);
  return body as T;
}

/**
 * The artifact's text, or undefined when it is over `limit` bytes: entries written by Python have no
 * size, so the preview reads at most `limit` bytes and then stops the download.
 */
export async function readLimited(url: string, limit: number): Promise<string | undefined> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(((await res.json()) as { error: { message: string } }).error.message);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

const enc = encodeURIComponent;

export const urls = {
  sources: () => "/api/sources",
  experiments: (id: string, filter: string) => `/api/project/${enc(id)}/experiments${filter.trim() ? `?filter=${enc(filter)}` : ""}`,
  experiment: (id: string, slug: string) => `/api/project/${enc(id)}/experiments/${enc(slug)}`,
  artifact: (id: string, slug: string, name: string, options: { test?: string | null; version?: number; download?: boolean } = {}) => {
    const q = new URLSearchParams();
    if (options.test) q.set("test", options.test);
    if (options.version !== undefined) q.set("version", String(options.version));
    if (options.download) q.set("download", "1");
    const s = q.toString();
    return `/api/project/${enc(id)}/experiments/${enc(slug)}/artifacts/${enc(name)}${s ? `?${s}` : ""}`;
  },
  compare: (id: string, slugs: string[]) => `/api/project/${enc(id)}/compare?slugs=${slugs.map(enc).join(",")}`,
  repository: (id: string) => `/api/repository/${enc(id)}`,
  repositoryArtifact: (id: string, name: string, version: number, download = false) =>
    `/api/repository/${enc(id)}/artifacts/${enc(name)}?version=${version}${download ? "&download=1" : ""}`,
  diff: (id: string, name: string, a: number, b: number) => `/api/repository/${enc(id)}/diff?name=${enc(name)}&a=${a}&b=${b}`,
};
