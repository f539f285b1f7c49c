import path from "node:path";
import { fileURLToPath } from "node:url";
import { isLabbookError, LabbookError, Project, type ProjectMode, type ProjectOptions, type Storage } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";

/** A location resolved to a storage and the key of the index file inside it. */
export interface ResolvedLocation {
  storage: Storage;
  key: string;
}

/** AWS credentials, as @aws-sdk/client-s3 takes them (the umbrella's types do not name the SDK). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  credentialScope?: string;
  accountId?: string;
  /** When temporary credentials expire; a provider is asked again before then. */
  expiration?: Date;
}

/**
 * How to reach S3 for s3:// locations (bucket and prefix come from the URL). The same fields as
 * @labbook/storage-s3's S3StorageOptions, written here so that a local-only install (without that
 * package and the AWS SDK) still type-checks; test/s3-options-types.test.ts keeps the two in step.
 */
export interface S3LocationOptions {
  /** AWS region; defaults to the standard chain (AWS_REGION, profile), then "us-east-1". */
  region?: string | undefined;
  /** Endpoint of an S3-compatible server, e.g. "http://127.0.0.1:9000". */
  endpoint?: string | undefined;
  /** Address buckets as `<endpoint>/<bucket>` rather than `<bucket>.<endpoint>`; default true when `endpoint` is set. */
  forcePathStyle?: boolean | undefined;
  /** Explicit credentials or a provider; the standard AWS chain (env, profile, SSO, instance role) by default. */
  credentials?: S3Credentials | ((identityProperties?: Record<string, unknown>) => Promise<S3Credentials>) | undefined;
  /** An `S3Client` from @aws-sdk/client-s3 you configured yourself; region/endpoint/credentials above are then ignored. */
  client?: S3ClientLike | undefined;
  /** Multipart part size in bytes (default 8 MiB, at least 5 MiB). */
  partSize?: number | undefined;
  /** Parts uploaded at once (default 2). */
  queueSize?: number | undefined;
  /** Skip the probe and trust this answer about conditional writes (If-None-Match, If-Match). */
  conditionalWrites?: boolean | undefined;
  /** How often a write is retried after a 409 ConditionalRequestConflict (default 4). */
  conflictRetries?: number | undefined;
  /** Milliseconds to wait for a connection to the endpoint (default 10 000; 0 waits forever). Ignored with `client`. */
  connectionTimeout?: number | undefined;
  /** Milliseconds a request may wait with no byte from the server (default 30 000; 0 waits forever). Ignored with `client`. */
  requestTimeout?: number | undefined;
}

/** What the umbrella's types say of an `S3Client` (from @aws-sdk/client-s3): an object that sends commands. */
export interface S3ClientLike {
  send(...args: never[]): unknown;
  destroy(): void;
}

export interface ResolveOptions {
  /** For s3:// locations: region, endpoint, credentials, client... (the standard AWS chain by default). */
  s3?: S3LocationOptions | undefined;
  /** The mode the location will be opened in: a writing mode checks now that S3 honours conditional writes (otherwise the first conditional write does). */
  mode?: ProjectMode | undefined;
}

export type OpenProjectOptions = Omit<ProjectOptions, "storage"> & {
  /** Use this storage instead of picking one from the location; the location is then a key in it. */
  storage?: Storage | undefined;
  /** For s3:// locations: region, endpoint, credentials, client... (the standard AWS chain by default). */
  s3?: S3LocationOptions | undefined;
};

/**
 * LABBOOK_S3_TIMEOUT (seconds, e.g. 5 or 0.5) sets both S3 timeouts for locations opened here, the
 * way the labbook command gets them; options passed in code win.
 */
function timeoutsFromEnv(): S3LocationOptions {
  const raw = process.env.LABBOOK_S3_TIMEOUT;
  if (raw === undefined || raw.trim() === "") return {};
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new LabbookError("INVALID_ARGUMENT", `LABBOOK_S3_TIMEOUT must be a number of seconds (for example 5 or 0.5), not ${JSON.stringify(raw)}.`);
  }
  const ms = Math.round(seconds * 1000);
  return { connectionTimeout: ms, requestTimeout: ms };
}

/** The fields of `options` whose value is not undefined. */
function definedFields<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}

/** s3://bucket/prefix/file.json → S3Storage rooted at prefix; the AWS SDK is loaded only now. */
async function resolveS3(location: string, defaultFile: string, options: ResolveOptions): Promise<ResolvedLocation> {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(location);
  const bucket = match?.[1];
  if (!match || !bucket)
    throw new LabbookError("INVALID_ARGUMENT", `Not an s3:// location: ${location}. Use s3://bucket/prefix/${defaultFile}.`, { path: location });
  const rest = (match[2] ?? "").replace(/\/+$/, "");
  const isFile = rest.toLowerCase().endsWith(".json");
  const slash = rest.lastIndexOf("/");
  const prefix = isFile ? (slash < 0 ? "" : rest.slice(0, slash)) : rest;
  const key = isFile ? rest.slice(slash + 1) : defaultFile;
  // Only in this function body: the published .d.ts files never name the optional peer.
  let S3Storage: typeof import("@labbook/storage-s3").S3Storage;
  try {
    ({ S3Storage } = await import("@labbook/storage-s3"));
  } catch (cause) {
    // Only a missing package is MISSING_DEPENDENCY; a broken install fails with its own error.
    if ((cause as { code?: unknown } | null)?.code !== "ERR_MODULE_NOT_FOUND") throw cause;
    throw new LabbookError(
      "MISSING_DEPENDENCY",
      `s3:// locations need the package @labbook/storage-s3, which is not installed: install it (npm install @labbook/storage-s3) to open ${location}.`,
      {
        path: location,
        cause,
      },
    );
  }
  let storage: InstanceType<typeof S3Storage>;
  try {
    // Fields left undefined fall back to the environment and the adapter's defaults. The cast is the
    // one place the umbrella's S3LocationOptions meets S3StorageOptions (test/s3-options-types.test.ts).
    const s3 = definedFields({ ...timeoutsFromEnv(), ...options.s3 }) as Omit<ConstructorParameters<typeof S3Storage>[0], "bucket" | "prefix">;
    storage = new S3Storage({ ...s3, bucket, prefix });
  } catch (cause) {
    if (!isLabbookError(cause, "INVALID_ARGUMENT")) throw cause;
    throw new LabbookError("INVALID_ARGUMENT", `Cannot open ${location}: ${cause.message}`, { path: location, cause });
  }
  // Writers learn now, not at the first save, whether the server really honours conditional writes.
  // Without a mode the probe waits for the first conditional write (read-only credentials cannot probe).
  if (options.mode !== undefined && options.mode !== "r") await storage.probe();
  return { storage, key };
}

/**
 * Pick a storage for a location: a plain path or file:// URL is local disk; s3:// needs
 * @labbook/storage-s3. A location naming a folder means `<folder>/<defaultFile>`.
 */
export async function resolveLocation(location: string, defaultFile: string, options: ResolveOptions = {}): Promise<ResolvedLocation> {
  if (/^s3:\/\//i.test(location)) return resolveS3(location, defaultFile, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:\/\//i.test(location)) {
    throw new LabbookError("UNSUPPORTED", `Unsupported location ${location}: use a path, file:// or s3:// URL.`, { path: location });
  }
  const file = /^file:\/\//i.test(location) ? fileURLToPath(location) : path.resolve(location);
  const isFile = path.extname(file).toLowerCase() === ".json";
  const full = isFile ? file : path.join(file, defaultFile);
  return { storage: new LocalStorage(path.dirname(full)), key: path.basename(full) };
}

/** openProject without its default registry: the options already say which registry (if any) to use. */
export async function openProjectAt(location: string, options: OpenProjectOptions): Promise<Project> {
  const { storage, s3, ...rest } = options;
  if (storage) return Project.open(location, { ...rest, storage });
  const resolved = await resolveLocation(location, "project.json", { ...(s3 ? { s3 } : {}), mode: rest.mode ?? "a" });
  return Project.open(resolved.key, { ...rest, storage: resolved.storage });
}
