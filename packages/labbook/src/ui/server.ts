/**
 * The read-only HTTP server behind `labbook ui`, on node:http alone (a dozen GET routes do not need a
 * framework). It answers only GET and HEAD, checks the Host header against DNS rebinding, sends a
 * strict Content-Security-Policy, binds 127.0.0.1 unless told otherwise with `allowRemote`, and tells
 * open pages over server-sent events when an index changes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { promisify } from "node:util";
import { gzip, gzipSync } from "node:zlib";
import { isLabbookError, LabbookError, type Project } from "@labbook/core";
import type { Repository } from "@labbook/repository";
import type { S3LocationOptions } from "../open.js";
import {
  type ArtifactTarget,
  artifactContentType,
  compareExperiments,
  experimentArtifact,
  experimentDetail,
  findExperiment,
  listExperiments,
  readSlotStream,
  repositoryArtifact,
  repositoryDetail,
} from "./api.js";
import { type Asset, defaultAssetsDir, loadAssets } from "./assets.js";
import { openSources, type Source } from "./sources.js";

const gzipAsync = promisify(gzip);

/** The page may load only its own scripts, styles, images and API; nothing inline, no frames, no forms. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Stored artifacts (an HTML run report among them) open in an opaque origin where no script runs. */
export const ARTIFACT_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'";

export interface ViewerOptions {
  /** A project, repository or registry file (or a folder holding one); or give `sources`. */
  location?: string | undefined;
  /** Sources already opened (tests, embedding). */
  sources?: Source[] | undefined;
  /** Address to bind (default 127.0.0.1). Anything but loopback needs `allowRemote`. */
  host?: string | undefined;
  /** Port (default 0: a free one). */
  port?: number | undefined;
  /** Permit a non-loopback `host`: anyone who can reach it can read every file the index names. */
  allowRemote?: boolean | undefined;
  /** The built page (default: the copy shipped in this package). */
  assetsDir?: string | undefined;
  /** For s3:// locations: region, endpoint, credentials... (the standard AWS chain by default). */
  s3?: S3LocationOptions | undefined;
  /** A registry file that resolves the dependency keys of a served project (the command's --registry). */
  registry?: string | undefined;
  /** How often to check the indexes for changes, in ms (default 250 on disk, 2000 on S3). */
  pollMs?: number | undefined;
}

export interface ViewerServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly sources: readonly Source[];
  /** Stop polling, end open event streams and close the server. */
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** Host headers a browser sends for this server; anything else is refused (DNS rebinding). */
function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set(["127.0.0.1", "localhost", "[::1]"]);
  const bracket = (h: string) => (h.includes(":") ? `[${h}]` : h);
  if (!isLoopback(host)) {
    if (host === "0.0.0.0" || host === "::") {
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(bracket(a.address));
    } else names.add(bracket(host));
  } else names.add(bracket(host));
  // A browser leaves the port out of Host only for port 80.
  return new Set([...names].flatMap((n) => (port === 80 ? [`${n.toLowerCase()}:${port}`, n.toLowerCase()] : [`${n.toLowerCase()}:${port}`])));
}

const STATUS: Partial<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  UNSAFE_PATH: 400,
  INVALID_VERSION: 400,
  NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  UNSUPPORTED: 415,
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function baseHeaders(res: ServerResponse, csp: string): void {
  res.setHeader("Content-Security-Policy", csp);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
}

// NaN and ±Infinity (which Python lazyscribe may store) become strings, as in `labbook ls --json`.
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? (Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity") : v));
}

function acceptsGzip(req: IncomingMessage): boolean {
  return /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
}

async function sendJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown): Promise<void> {
  const body = Buffer.from(toJson(value));
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  if (body.byteLength > 1024 && acceptsGzip(req)) {
    const zipped = await gzipAsync(body);
    res.setHeader("Content-Encoding", "gzip");
    res.setHeader("Vary", "Accept-Encoding");
    res.setHeader("Content-Length", zipped.byteLength);
    res.end(zipped);
    return;
  }
  res.setHeader("Content-Length", body.byteLength);
  res.end(body);
}

/** The full experiment list, built and gzipped once per generation of its source (the page's first request). */
const listCache = new WeakMap<Source, { generation: number; body: Buffer; gzip: Buffer }>();

async function cachedList(source: Source, build: () => unknown): Promise<{ body: Buffer; gzip: Buffer }> {
  const hit = listCache.get(source);
  if (hit && hit.generation === source.generation) return hit;
  const generation = source.generation;
  const body = Buffer.from(toJson(build()));
  const entry = { generation, body, gzip: await gzipAsync(body) };
  listCache.set(source, entry);
  return entry;
}

async function sendCached(req: IncomingMessage, res: ServerResponse, source: Source, build: () => unknown): Promise<void> {
  const { body, gzip: zipped } = await cachedList(source, build);
  res.statusCode = 200;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Vary", "Accept-Encoding");
  const out = acceptsGzip(req) ? zipped : body;
  if (out === zipped) res.setHeader("Content-Encoding", "gzip");
  res.setHeader("Content-Length", out.byteLength);
  res.end(out);
}

/**
 * Let the browser fetch the first view's data while it still loads the script: a preload link in
 * index.html (allowed by the CSP's connect-src 'self'; no inline script needed), and the list of
 * sources in a meta tag.
 */
function preloadFirstView(assets: Map<string, Asset>, sources: readonly Source[]): void {
  const index = assets.get("/") as Asset;
  const first = sources[0] as Source;
  const url = first.kind === "project" ? `/api/project/${encodeURIComponent(first.id)}/experiments` : `/api/repository/${encodeURIComponent(first.id)}`;
  const attr = (text: string) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  // What is served, as data in a meta tag (not a script), so the page needs no round trip to learn it.
  const served = JSON.stringify(sources.map((s) => ({ id: s.id, kind: s.kind, path: s.path, generation: 0 })));
  const head = `  <meta name="labbook-sources" content="${attr(served)}" />\n    <link rel="preload" href="${attr(url)}" as="fetch" crossorigin="anonymous" />\n  </head>`;
  const html = index.body.toString("utf8").replace("</head>", head);
  const body = Buffer.from(html);
  const updated: Asset = { ...index, body, gzip: gzipSync(body) };
  assets.set("/", updated);
  assets.set("/index.html", updated);
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  res.statusCode = 200;
  res.setHeader("Content-Type", asset.type);
  res.setHeader("Cache-Control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  const body = asset.gzip && acceptsGzip(req) ? asset.gzip : asset.body;
  if (body === asset.gzip) res.setHeader("Content-Encoding", "gzip");
  res.setHeader("Vary", "Accept-Encoding");
  res.setHeader("Content-Length", body.byteLength);
  res.end(body);
}

function safeFilename(fname: string): string {
  const base = fname.split("/").pop() ?? "artifact";
  return base.replace(/[^A-Za-z0-9._-]/g, "_") || "artifact";
}

async function sendArtifact(req: IncomingMessage, res: ServerResponse, source: Source, target: ArtifactTarget, download: boolean): Promise<void> {
  const stream = await readSlotStream(source.storage, target.entry, target.key);
  const { type, inline } = artifactContentType(target.entry);
  res.statusCode = 200;
  res.setHeader("Content-Security-Policy", ARTIFACT_CSP);
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-cache");
  res.setHeader("Content-Disposition", `${download || !inline ? "attachment" : "inline"}; filename="${safeFilename(target.entry.fname)}"`);
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  try {
    for await (const chunk of stream) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
      if (res.destroyed) return;
    }
    res.end();
  } catch (error) {
    // Headers are gone: all we can do for a file that fails its sha256 check half-way is cut it off.
    process.stderr.write(`labbook ui: ${(error as Error).message}\n`);
    res.destroy(error as Error);
  }
}

function segments(pathname: string): string[] {
  try {
    return pathname
      .split("/")
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, "INVALID_ARGUMENT", `Bad percent-encoding in ${pathname}.`);
  }
}

/** Open the sources and start serving. Prints nothing; the command prints the address. */
export async function startViewer(options: ViewerOptions): Promise<ViewerServer> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopback(host) && options.allowRemote !== true) {
    throw new LabbookError(
      "INVALID_ARGUMENT",
      `Refusing to serve on ${host}: the viewer binds loopback addresses only, since anyone who reaches it can read every artifact. Pass allowRemote (--allow-remote) to serve on ${host} anyway.`,
    );
  }
  const sources = options.sources ?? (options.location === undefined ? [] : await openSources(options.location, options.s3, options.registry));
  if (sources.length === 0) throw new LabbookError("INVALID_ARGUMENT", "The viewer needs a location or sources to show.");
  const assets = loadAssets(options.assetsDir ?? defaultAssetsDir());
  preloadFirstView(assets, sources);
  const projects = new Map(sources.filter((s) => s.kind === "project").map((s) => [s.id, s as Source<Project>]));
  const repositories = new Map(sources.filter((s) => s.kind === "repository").map((s) => [s.id, s as Source<Repository>]));
  const streams = new Set<ServerResponse>();
  let hosts = new Set<string>();

  const project = (id: string | undefined): Source<Project> => {
    const s = id === undefined ? undefined : projects.get(id);
    if (!s) throw new HttpError(404, "NOT_FOUND", `No project "${id}" is served here.`);
    return s;
  };
  const repository = (id: string | undefined): Source<Repository> => {
    const s = id === undefined ? undefined : repositories.get(id);
    if (!s) throw new HttpError(404, "NOT_FOUND", `No repository "${id}" is served here.`);
    return s;
  };
  const describeSources = () => sources.map((s) => ({ id: s.id, kind: s.kind, path: s.path, generation: s.generation }));

  async function api(req: IncomingMessage, res: ServerResponse, parts: string[], query: URLSearchParams): Promise<void> {
    const [, area, id, sub, key, rest, name, extra] = parts;
    const q = (k: string) => query.get(k) ?? undefined;
    if (area === "sources" && id === undefined) return sendJson(req, res, 200, { sources: describeSources() });
    if (area === "events" && id === undefined) return openEvents(res);
    if (area === "project") {
      const source = project(id);
      if (sub === "experiments" && key === undefined) {
        const filter = q("filter");
        if (filter === undefined || filter.trim() === "") return sendCached(req, res, source, () => listExperiments(source, undefined));
        return sendJson(req, res, 200, listExperiments(source, filter));
      }
      if (sub === "experiments" && key !== undefined && rest === undefined) return sendJson(req, res, 200, experimentDetail(source, key, projects));
      if (sub === "experiments" && key !== undefined && rest === "artifacts" && name !== undefined && extra === undefined) {
        const experiment = findExperiment(source.value, key);
        const target = experimentArtifact(source.value, experiment, name, { test: q("test"), version: q("version") });
        return sendArtifact(req, res, source, target, query.has("download"));
      }
      if (sub === "compare" && key === undefined) {
        const slugs = (q("slugs") ?? "").split(",").filter((s) => s.length > 0);
        return sendJson(req, res, 200, await compareExperiments(source, slugs));
      }
    }
    if (area === "repository") {
      const source = repository(id);
      if (sub === undefined) return sendJson(req, res, 200, await repositoryDetail(source));
      if (sub === "diff" && key === undefined) {
        const artifact = q("name");
        const a = q("a");
        if (artifact === undefined || a === undefined) throw new HttpError(400, "INVALID_ARGUMENT", "diff needs ?name=<artifact>&a=<version>[&b=<version>].");
        const version = (v: string | undefined) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v);
        const diff = await source.value.versionDiff(artifact, version(a) as number | string, version(q("b")));
        return sendJson(req, res, 200, { diff });
      }
      if (sub === "artifacts" && key !== undefined && rest === undefined) {
        return sendArtifact(req, res, source, repositoryArtifact(source.value, key, q("version")), query.has("download"));
      }
    }
    throw new HttpError(404, "NOT_FOUND", `No such API route: /${parts.join("/")}.`);
  }

  function openEvents(res: ServerResponse): void {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
    res.write(`retry: 1000\nevent: hello\ndata: ${toJson({ sources: describeSources() })}\n\n`);
    streams.add(res);
    res.on("close", () => streams.delete(res));
  }

  function broadcast(source: Source): void {
    const message = `event: change\ndata: ${toJson({ kind: source.kind, id: source.id, generation: source.generation })}\n\n`;
    for (const res of streams) res.write(message);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hostHeader = String(req.headers.host ?? "").toLowerCase();
    if (!hosts.has(hostHeader)) {
      baseHeaders(res, PAGE_CSP);
      return sendJson(req, res, 403, {
        error: { code: "FORBIDDEN_HOST", message: `Host ${JSON.stringify(req.headers.host ?? "")} is not this viewer's address; open ${url} instead.` },
      });
    }
    baseHeaders(res, PAGE_CSP);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return sendJson(req, res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "The viewer is read-only: only GET and HEAD." } });
    }
    const parsed = new URL(req.url ?? "/", "http://viewer.invalid");
    try {
      const parts = segments(parsed.pathname);
      if (parts[0] === "api") return await api(req, res, parts, parsed.searchParams);
      // Only the exact paths of the built files; anything else (".." included) is simply not in the map.
      const asset = assets.get(parsed.pathname);
      if (!asset) throw new HttpError(404, "NOT_FOUND", `No file ${parsed.pathname} here.`);
      return sendAsset(req, res, asset);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) return sendJson(req, res, error.status, { error: { code: error.code, message: error.message } });
      if (isLabbookError(error)) return sendJson(req, res, STATUS[error.code] ?? 500, { error: { code: error.code, message: error.message } });
      process.stderr.write(`labbook ui: ${(error as Error).stack ?? String(error)}\n`);
      return sendJson(req, res, 500, { error: { code: "INTERNAL", message: "The viewer failed on this request; see the server's output." } });
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      process.stderr.write(`labbook ui: ${(error as Error).stack ?? String(error)}\n`);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new LabbookError("INVALID_ARGUMENT", `Cannot listen on ${host}:${options.port ?? 0}: ${error.message}`, { cause: error })),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const port = bound.port;
  hosts = allowedHosts(host, port);
  hosts = new Set([...hosts, ...allowedHosts(bound.address, port)]);
  const shown = bound.address === "0.0.0.0" || bound.address === "::" ? "127.0.0.1" : bound.address;
  const url = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}/`;

  // Build the first view's list now, so the first page load does not wait for it.
  for (const s of projects.values()) void cachedList(s, () => listExperiments(s, undefined)).catch(() => undefined);

  // Polling stat works alike on disk and on S3; a change is re-read once, then announced.
  const pollMs = options.pollMs ?? (sources.some((s) => s.storage.kind === "s3") ? 2000 : 250);
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    Promise.all(
      sources.map((s) =>
        s.refresh().then(
          (changed) => changed && broadcast(s),
          // A half-written or invalid index stays the old view until the next good one.
          (error) => process.stderr.write(`labbook ui: cannot re-read ${s.path}: ${(error as Error).message}\n`),
        ),
      ),
    ).finally(() => {
      polling = false;
    });
  }, pollMs);
  timer.unref();
  // Comments keep proxies and browsers from timing out an idle event stream.
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(": ping\n\n");
  }, 15_000);
  heartbeat.unref();

  return {
    url,
    host,
    port,
    sources,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        clearInterval(heartbeat);
        for (const res of streams) res.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
