import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { freePort } from "./ports.js";

/**
 * A local HTTP stub that answers the parts of W&B's API a run with config, history, summary and an
 * artifact uses (GraphQL at /graphql, /files/.../file_stream, file uploads), and records every
 * request. It is NOT a W&B server: it stores nothing and answers from a table, so what it shows is
 * what a client sends, which is what the W&B contract test compares.
 */
export interface RecordedRequest {
  method: string;
  /** The path with run ids and upload tokens replaced by placeholders. */
  path: string;
  /** GraphQL operation name, "file_stream", "upload", or "other". */
  kind: string;
  variables?: Record<string, unknown>;
  /** file_stream bodies, parsed. */
  body?: unknown;
  /** Upload size in bytes. */
  size?: number;
  status: number;
}

export interface WandbStub {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The API key the stub accepts (others get 401). */
  readonly apiKey: string;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function operationOf(body: { operationName?: unknown; query?: unknown }): string {
  if (typeof body.operationName === "string" && body.operationName.length > 0) return body.operationName;
  const q = typeof body.query === "string" ? body.query : "";
  const named = /\b(?:query|mutation)\s+(\w+)/.exec(q);
  if (named?.[1]) return named[1];
  const field = /{\s*(\w+)/.exec(q);
  return field?.[1] ? `anonymous:${field[1]}` : "anonymous";
}

/** The answers by operation name; `ctx` carries ids the stub made up. */
function answer(op: string, variables: Record<string, unknown>, url: string): unknown {
  const id = () => Buffer.from(randomUUID()).toString("base64").slice(0, 24);
  switch (op) {
    case "Viewer":
      return { viewer: { id: "VXNlcjox", entity: "stub-entity", username: "stub-user", email: "stub@example.invalid", flags: "{}", teams: { edges: [] } } };
    case "UpsertBucket":
      return {
        upsertBucket: {
          bucket: {
            id: id(),
            name: variables.name ?? "run",
            displayName: variables.displayName ?? null,
            description: null,
            config: variables.config ?? "{}",
            sweepName: null,
            project: { id: id(), name: variables.project ?? "uncategorized", entity: { id: id(), name: variables.entity ?? "stub-entity" } },
            historyLineCount: 0,
          },
          inserted: true,
        },
      };
    case "CreateRunFiles": {
      const files = (variables.files as string[] | undefined) ?? [];
      return {
        createRunFiles: { runID: id(), uploadHeaders: [], files: files.map((name) => ({ name, uploadUrl: `${url}/upload/run/${encodeURIComponent(name)}` })) },
      };
    }
    case "CreateArtifact":
      return { createArtifact: { artifact: { id: id(), state: "PENDING", artifactSequence: { id: id(), latestArtifact: null } } } };
    case "CreateArtifactManifest":
      return {
        createArtifactManifest: {
          artifactManifest: {
            id: id(),
            file: { id: id(), name: "wandb_manifest.json", displayName: "wandb_manifest.json", uploadUrl: `${url}/upload/manifest`, uploadHeaders: [] },
          },
        },
      };
    case "CreateArtifactFiles": {
      const input = (variables.input ?? {}) as { artifactFiles?: Array<{ name: string; artifactID: string }> };
      const artifactFiles = input.artifactFiles ?? [];
      return {
        createArtifactFiles: {
          files: {
            edges: artifactFiles.map((f) => ({
              node: {
                id: id(),
                name: f.name,
                displayName: f.name,
                storagePath: `wandb_artifacts/${f.name}`,
                uploadUrl: `${url}/upload/artifact/${encodeURIComponent(f.name)}`,
                uploadHeaders: [],
                uploadMultipartUrls: null,
                artifact: { id: f.artifactID },
              },
            })),
          },
        },
      };
    }
    case "CommitArtifact":
      return { commitArtifact: { artifact: { id: variables.artifactID ?? id(), digest: "stub" } } };
    case "UseArtifact":
      return { useArtifact: { artifact: { id: variables.artifactID ?? id() } } };
    case "UpdateArtifactManifest":
      return { updateArtifactManifest: { artifactManifest: { id: id(), file: { id: id(), uploadUrl: `${url}/upload/manifest`, uploadHeaders: [] } } } };
    case "ServerFeaturesQuery":
      return { serverInfo: { features: [] } };
    case "ArtifactType":
      // No artifact of that name yet: the client may pick any type.
      return { project: null };
    default:
      // Feature probes (introspection, server info): "not supported" keeps clients on the plain path.
      return {};
  }
}

/** Replace the random parts of a path (run ids) so two recordings compare. */
function normalizePath(path: string): string {
  return path.replace(/^\/files\/([^/]+)\/([^/]+)\/[^/]+\/file_stream/, "/files/$1/$2/<run>/file_stream");
}

/**
 * Start the stub on 127.0.0.1 with a free port.
 * @example
 * const stub = await startWandbStub(); process.env.WANDB_BASE_URL = stub.url; ...; await stub.stop()
 */
export async function startWandbStub(options: { apiKey?: string } = {}): Promise<WandbStub> {
  const apiKey = options.apiKey ?? "0123456789abcdef0123456789abcdef01234567";
  const requests: RecordedRequest[] = [];
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const send = (status: number, body: unknown, kind: string, extra: Partial<RecordedRequest> = {}) => {
        requests.push({ method: req.method ?? "GET", path: normalizePath(path), kind, status, ...extra });
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (path.startsWith("/upload/")) {
        // The artifact manifest is JSON whose shape matters; other uploads are only sized.
        const manifest = path === "/upload/manifest" ? JSON.parse(raw.toString("utf8")) : undefined;
        return send(200, {}, "upload", { size: raw.byteLength, ...(manifest ? { body: manifest } : {}) });
      }
      if (path.startsWith("/sdk/otel/")) return send(200, {}, "telemetry");
      const auth = req.headers.authorization ?? "";
      const key = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8").split(":").slice(1).join(":") : "";
      if (key !== apiKey) return send(401, { errors: [{ message: "user is not logged in" }] }, "unauthorized");
      if (path === "/graphql") {
        const body = JSON.parse(raw.toString("utf8") || "{}") as { operationName?: string; query?: string; variables?: Record<string, unknown> };
        const op = operationOf(body);
        if (process.env.WANDB_STUB_DEBUG) process.stderr.write(`--- ${op}\n${body.query}\n`);
        return send(200, { data: answer(op, body.variables ?? {}, url) }, op, { variables: body.variables ?? {} });
      }
      if (path.endsWith("/file_stream")) {
        return send(200, { exitcode: null, limits: {} }, "file_stream", { body: JSON.parse(raw.toString("utf8") || "{}") });
      }
      return send(404, { error: `stub: no route for ${req.method} ${path}` }, "other");
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return {
    url,
    requests,
    apiKey,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
