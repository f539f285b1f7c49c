/**
 * A small client for the parts of W&B's HTTP API a finished run needs: GraphQL (`upsertBucket` and
 * the artifact mutations), the `file_stream` endpoint, and uploads to the URLs the server hands out.
 * Written here because `@wandb/sdk` on npm is stale and has no artifacts. Field names follow W&B's
 * public GraphQL schema, as the official Python client sends them.
 */
import { createHash, randomBytes } from "node:crypto";
import { LabbookError } from "@labbook/core";
import { DEFAULT_TIMEOUT_MS, request } from "../http.js";

/** Where and how to reach W&B. Unset fields come from the environment. */
export interface WandbOptions {
  /** Default: WANDB_API_KEY. */
  apiKey?: string | undefined;
  /** Default: WANDB_BASE_URL, else https://api.wandb.ai. */
  baseUrl?: string | undefined;
  /** Default: WANDB_ENTITY (else the key's default entity, as W&B picks it). */
  entity?: string | undefined;
  /** Default: WANDB_PROJECT, else "labbook". */
  project?: string | undefined;
  /** Time one request may take, ms (default 30 000). */
  timeoutMs?: number | undefined;
}

export interface WandbFile {
  /** Path inside the artifact. */
  path: string;
  size: number;
  /** base64 md5 of the bytes, as W&B's manifests record it. */
  md5: string;
  open(): Promise<Uint8Array | AsyncIterable<Uint8Array>>;
}

const UPSERT_BUCKET = `mutation UpsertBucket($id: String, $name: String, $project: String, $entity: String, $groupName: String, $description: String, $displayName: String, $notes: String, $commit: String, $config: JSONString, $host: String, $debug: Boolean, $program: String, $repo: String, $jobType: String, $state: String, $sweep: String, $tags: [String!], $summaryMetrics: JSONString) {
  upsertBucket(input: {id: $id, name: $name, groupName: $groupName, modelName: $project, entityName: $entity, description: $description, displayName: $displayName, notes: $notes, config: $config, commit: $commit, host: $host, debug: $debug, jobProgram: $program, jobRepo: $repo, jobType: $jobType, state: $state, sweep: $sweep, tags: $tags, summaryMetrics: $summaryMetrics}) {
    bucket { id name displayName project { name entity { name } } }
    inserted
  }
}`;

const CREATE_ARTIFACT = `mutation CreateArtifact($input: CreateArtifactInput!) {
  createArtifact(input: $input) { artifact { id state } }
}`;

const CREATE_MANIFEST = `mutation CreateArtifactManifest($artifactID: ID!, $baseArtifactID: ID, $name: String!, $digest: String!, $entityName: String!, $projectName: String!, $runName: String!, $manifestType: ArtifactManifestType!, $includeUpload: Boolean!) {
  createArtifactManifest(input: {artifactID: $artifactID, baseArtifactID: $baseArtifactID, name: $name, digest: $digest, entityName: $entityName, projectName: $projectName, runName: $runName, type: $manifestType}) {
    artifactManifest { id file { id uploadUrl @include(if: $includeUpload) uploadHeaders @include(if: $includeUpload) } }
  }
}`;

const CREATE_FILES = `mutation CreateArtifactFiles($input: CreateArtifactFilesInput!) {
  createArtifactFiles(input: $input) { files { edges { node { storagePath uploadUrl uploadHeaders artifact { id } } } } }
}`;

const COMMIT_ARTIFACT = `mutation CommitArtifact($artifactID: ID!) {
  commitArtifact(input: {artifactID: $artifactID}) { artifact { id digest } }
}`;

/** W&B's random client ids: 128 characters of [0-9a-z]. */
function clientId(): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  return [...randomBytes(128)].map((b) => alphabet[b % 36]).join("");
}

/** base64 md5, W&B's digest of a file. */
export function md5Base64(bytes: Uint8Array | string): string {
  return createHash("md5").update(bytes).digest("base64");
}

/** An artifact's digest: md5 over a fixed header and the sorted `path:digest` lines of its manifest. */
export function manifestDigest(files: ReadonlyArray<Pick<WandbFile, "path" | "md5">>): string {
  const hash = createHash("md5").update("wandb-artifact-manifest-v1\n");
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) hash.update(`${f.path}:${f.md5}\n`);
  return hash.digest("hex");
}

/** `["Content-MD5:abc"]` → headers. */
function headersOf(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of Array.isArray(list) ? list : []) {
    if (typeof h !== "string") continue;
    const colon = h.indexOf(":");
    if (colon > 0) out[h.slice(0, colon)] = h.slice(colon + 1);
  }
  return out;
}

export class WandbClient {
  readonly baseUrl: string;
  readonly entity: string | undefined;
  readonly project: string;
  readonly #auth: string;
  readonly #timeoutMs: number;

  constructor(options: WandbOptions = {}) {
    const key = options.apiKey ?? process.env.WANDB_API_KEY;
    if (!key) throw new LabbookError("INVALID_ARGUMENT", "No W&B API key: pass apiKey or set WANDB_API_KEY (https://wandb.ai/authorize).");
    this.baseUrl = (options.baseUrl ?? process.env.WANDB_BASE_URL ?? "https://api.wandb.ai").replace(/\/+$/, "");
    if (!/^https?:\/\//.test(this.baseUrl)) throw new LabbookError("INVALID_ARGUMENT", `W&B base URL ${JSON.stringify(this.baseUrl)} is not an http(s) URL.`);
    this.entity = options.entity ?? process.env.WANDB_ENTITY;
    this.project = options.project ?? process.env.WANDB_PROJECT ?? "labbook";
    this.#auth = `Basic ${Buffer.from(`api:${key}`).toString("base64")}`;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async graphql<T>(operationName: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const url = `${this.baseUrl}/graphql`;
    const { text } = await request(url, {
      method: "POST",
      headers: { authorization: this.#auth, "content-type": "application/json" },
      body: JSON.stringify({ operationName, query, variables }),
      timeoutMs: this.#timeoutMs,
      service: "W&B",
      what: operationName,
    });
    let body: { data?: T; errors?: Array<{ message?: string }> };
    try {
      body = JSON.parse(text) as typeof body;
    } catch (cause) {
      throw new LabbookError("REMOTE", `W&B at ${this.baseUrl} answered ${operationName} with something that is not JSON; is WANDB_BASE_URL right?`, {
        path: url,
        cause,
      });
    }
    if (body.errors?.length || !body.data) {
      throw new LabbookError(
        "REMOTE",
        `W&B at ${this.baseUrl} refused ${operationName}: ${body.errors?.map((e) => e.message).join("; ") || "no data in the answer"}.`,
        { path: url },
      );
    }
    return body.data;
  }

  /** Create or update a run (W&B calls it a bucket); `inserted` says which. */
  async upsertRun(fields: {
    name: string;
    displayName: string;
    config: Record<string, unknown>;
    tags: string[];
    notes?: string | null;
    groupName?: string | null;
  }): Promise<{ entity: string; project: string; inserted: boolean }> {
    const data = await this.graphql<{ upsertBucket: { bucket: { project: { name: string; entity: { name: string } } }; inserted: boolean } }>(
      "UpsertBucket",
      UPSERT_BUCKET,
      {
        id: null,
        name: fields.name,
        project: this.project,
        entity: this.entity ?? null,
        groupName: fields.groupName ?? null,
        description: null,
        displayName: fields.displayName,
        notes: fields.notes ?? null,
        commit: null,
        // W&B's config shape: every key holds {"value": ...}.
        config: JSON.stringify(Object.fromEntries(Object.entries(fields.config).map(([k, v]) => [k, { value: v }]))),
        host: null,
        debug: null,
        // Where the run came from, shown by W&B as the run's program.
        program: "labbook export",
        repo: null,
        jobType: null,
        state: null,
        sweep: null,
        tags: fields.tags,
        summaryMetrics: null,
      },
    );
    const bucket = data.upsertBucket.bucket;
    return { entity: bucket.project.entity.name, project: bucket.project.name, inserted: data.upsertBucket.inserted };
  }

  /** One file_stream post: whole files from offset 0 (so sending again replaces, never appends). */
  async fileStream(entity: string, project: string, run: string, files: Record<string, string[]>, finish: boolean): Promise<void> {
    const url = `${this.baseUrl}/files/${encodeURIComponent(entity)}/${encodeURIComponent(project)}/${encodeURIComponent(run)}/file_stream`;
    const body: Record<string, unknown> = { files: Object.fromEntries(Object.entries(files).map(([name, content]) => [name, { offset: 0, content }])) };
    if (finish) Object.assign(body, { uploaded: [], complete: true, exitcode: 0 });
    await request(url, {
      method: "POST",
      headers: { authorization: this.#auth, "content-type": "application/json" },
      body: JSON.stringify(body),
      timeoutMs: this.#timeoutMs,
      service: "W&B",
      what: `file_stream of run ${run}`,
    });
  }

  async #upload(url: string, headers: Record<string, string>, body: Uint8Array | AsyncIterable<Uint8Array>, size: number, what: string): Promise<void> {
    await request(url, {
      method: "PUT",
      headers: { ...headers, ...(body instanceof Uint8Array ? {} : { "content-length": String(size) }) },
      body,
      timeoutMs: this.#timeoutMs + Math.floor(size / 100_000_000) * 60_000,
      service: "W&B storage",
      what,
    });
  }

  /**
   * Log an artifact as an output of `run`: create it, upload its files and its manifest, commit.
   * W&B deduplicates by digest, so the same files logged again make no new version.
   */
  async logArtifact(
    target: { entity: string; project: string; run: string; historyStep: number },
    artifact: { name: string; type: string; metadata: Record<string, unknown>; description?: string | null },
    files: WandbFile[],
  ): Promise<{ id: string; state: string }> {
    const digest = manifestDigest(files);
    const created = await this.graphql<{ createArtifact: { artifact: { id: string; state: string } } }>("CreateArtifact", CREATE_ARTIFACT, {
      input: {
        aliases: [{ alias: "latest", artifactCollectionName: artifact.name }],
        artifactCollectionName: artifact.name,
        artifactCollectionNames: null,
        artifactTypeName: artifact.type,
        clientID: clientId(),
        clientMutationId: null,
        description: artifact.description ?? null,
        digest,
        digestAlgorithm: "MANIFEST_MD5",
        distributedID: null,
        enableDigestDeduplication: true,
        entityName: target.entity,
        historyStep: target.historyStep,
        labels: null,
        metadata: JSON.stringify(artifact.metadata),
        projectName: target.project,
        runName: target.run,
        sequenceClientID: clientId(),
        storageRegion: null,
        ttlDurationSeconds: null,
      },
    });
    const { id, state } = created.createArtifact.artifact;
    if (state === "COMMITTED") return { id, state };
    const manifestVars = (digestValue: string, includeUpload: boolean) => ({
      artifactID: id,
      baseArtifactID: null,
      name: "wandb_manifest.json",
      digest: digestValue,
      entityName: target.entity,
      projectName: target.project,
      runName: target.run,
      manifestType: "FULL",
      includeUpload,
    });
    type ManifestAnswer = {
      createArtifactManifest: { artifactManifest: { id: string; file: { uploadUrl?: string | null; uploadHeaders?: string[] | null } } };
    };
    const manifest = await this.graphql<ManifestAnswer>("CreateArtifactManifest", CREATE_MANIFEST, manifestVars("", false));
    const manifestId = manifest.createArtifactManifest.artifactManifest.id;
    if (files.length > 0) {
      const answer = await this.graphql<{
        createArtifactFiles: { files: { edges: Array<{ node: { uploadUrl?: string | null; uploadHeaders?: string[] | null } }> } };
      }>("CreateArtifactFiles", CREATE_FILES, {
        input: {
          artifactFiles: files.map((f) => ({
            artifactID: id,
            artifactManifestID: manifestId,
            md5: f.md5,
            mimetype: null,
            name: f.path,
            uploadPartsInput: null,
          })),
          clientMutationId: null,
          cloudRegionID: null,
          storageLayout: "V2",
        },
      });
      const edges = answer.createArtifactFiles.files.edges;
      if (edges.length !== files.length) {
        throw new LabbookError("REMOTE", `W&B at ${this.baseUrl} gave ${edges.length} upload URLs for ${files.length} files of artifact "${artifact.name}".`);
      }
      for (const [i, edge] of edges.entries()) {
        const file = files[i] as WandbFile;
        // No URL: W&B already has these bytes.
        if (!edge.node.uploadUrl) continue;
        await this.#upload(
          edge.node.uploadUrl,
          headersOf(edge.node.uploadHeaders),
          await file.open(),
          file.size,
          `upload ${file.path} of artifact ${artifact.name}`,
        );
      }
    }
    const manifestText = JSON.stringify({
      version: 1,
      storagePolicy: "wandb-storage-policy-v1",
      storagePolicyConfig: { storageLayout: "V2" },
      contents: Object.fromEntries(files.map((f) => [f.path, { digest: f.md5, size: f.size, birthArtifactID: id }])),
    });
    const withUpload = await this.graphql<ManifestAnswer>("CreateArtifactManifest", CREATE_MANIFEST, manifestVars(md5Base64(manifestText), true));
    const file = withUpload.createArtifactManifest.artifactManifest.file;
    if (!file.uploadUrl) throw new LabbookError("REMOTE", `W&B at ${this.baseUrl} gave no upload URL for the manifest of artifact "${artifact.name}".`);
    const bytes = new TextEncoder().encode(manifestText);
    await this.#upload(file.uploadUrl, headersOf(file.uploadHeaders), bytes, bytes.byteLength, `upload the manifest of artifact ${artifact.name}`);
    await this.graphql("CommitArtifact", COMMIT_ARTIFACT, { artifactID: id });
    return { id, state: "COMMITTED" };
  }
}
