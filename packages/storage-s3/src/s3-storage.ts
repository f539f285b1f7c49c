import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import {
  assertSafeKey,
  type ByteSource,
  LabbookError,
  type ObjectInfo,
  type Progress,
  type ReadOptions,
  type Storage,
  type StorageCapabilities,
  tooLargeError,
  type WriteOptions,
  type WriteResult,
} from "@labbook/core";
import { awsErrorName, httpStatus, isConditionalRequestConflict, isMissingKey, isNotImplemented, isPreconditionFailed, toLabbookError } from "./errors.js";

export interface S3StorageOptions {
  /** The bucket that holds everything. */
  bucket: string;
  /** Key prefix inside the bucket ("" for the bucket root); a trailing "/" is added when missing. */
  prefix?: string | undefined;
  /** AWS region; defaults to the standard chain (AWS_REGION, profile), then "us-east-1". */
  region?: string | undefined;
  /** Endpoint of an S3-compatible server, e.g. "http://127.0.0.1:9000". */
  endpoint?: string | undefined;
  /** Address buckets as `<endpoint>/<bucket>` rather than `<bucket>.<endpoint>`; default true when `endpoint` is set. */
  forcePathStyle?: boolean | undefined;
  /** Explicit credentials or a provider; the standard AWS chain (env, profile, SSO, instance role) by default. */
  credentials?: S3ClientConfig["credentials"] | undefined;
  /** A client you configured yourself; region/endpoint/credentials above are then ignored. */
  client?: S3Client | undefined;
  /** Multipart part size in bytes (default 8 MiB, at least 5 MiB). Memory used by one upload is about partSize × queueSize. */
  partSize?: number | undefined;
  /** Parts uploaded at once (default 2: a 1 GiB upload peaks near 175 MB RSS, 75 of them the SDK itself; raise it for throughput). */
  queueSize?: number | undefined;
  /**
   * Skip the probe and trust this answer about conditional writes. By default the first conditional
   * write (or `probe()`) checks once that the server really honours If-None-Match and If-Match.
   */
  conditionalWrites?: boolean | undefined;
  /** How often a write is retried after a 409 ConditionalRequestConflict (default 4). */
  conflictRetries?: number | undefined;
  /** Milliseconds to wait for a connection to the endpoint (default 10 000; 0 waits forever). Ignored with `client`. */
  connectionTimeout?: number | undefined;
  /**
   * Milliseconds a request may wait with no byte from the server (default 30 000; 0 waits forever).
   * A long transfer is fine as long as data flows. Ignored with `client`. A timeout is retried like
   * any network failure (the SDK's `maxAttempts`, 3), then fails with a STORAGE error naming the endpoint.
   */
  requestTimeout?: number | undefined;
}

/** Default timeouts, so an endpoint that accepts connections but never answers cannot hang a caller. */
export const DEFAULT_S3_CONNECTION_TIMEOUT = 10_000;
export const DEFAULT_S3_REQUEST_TIMEOUT = 30_000;

/**
 * Refuse bucket names outside S3's naming rules (3-63 characters of a-z, 0-9, "." and "-", starting
 * and ending with a letter or digit, no "..", not an IP address, none of the reserved prefixes and
 * suffixes), so a location such as s3://../victim can never address another bucket.
 */
export function assertBucketName(bucket: string): void {
  const problem =
    bucket.length < 3 || bucket.length > 63
      ? "it must be 3 to 63 characters long"
      : !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)
        ? "it may hold only lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit"
        : bucket.includes("..")
          ? 'it must not hold two dots in a row (".." is never a bucket)'
          : /^\d+\.\d+\.\d+\.\d+$/.test(bucket)
            ? "it must not look like an IP address"
            : /^(xn--|sthree-|amzn-s3-demo-)/.test(bucket) || /(-s3alias|--ol-s3|--x-s3|--table-s3|\.mrap)$/.test(bucket)
              ? "it uses a prefix or suffix S3 reserves"
              : undefined;
  if (problem !== undefined) {
    throw new LabbookError(
      "INVALID_ARGUMENT",
      `${JSON.stringify(bucket)} is not a valid S3 bucket name: ${problem}. Check the location (s3://<bucket>/<prefix>/...).`,
      { path: bucket },
    );
  }
}

const MiB = 1024 * 1024;
const PROBE_FOLDER = ".labbook-probe";
/** An ETag no object can have: a write conditioned on it must fail. */
const IMPOSSIBLE_ETAG = '"00000000000000000000000000000000"';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Encode a key for x-amz-copy-source: each segment URL-encoded, slashes kept. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * Storage on Amazon S3 or an S3-compatible server. Keys live under `prefix` in `bucket`.
 * Conditional writes use If-None-Match / If-Match against the ETag; big objects and streams go up
 * as multipart uploads with bounded concurrency and come down as streams, so memory stays flat.
 *
 * @example
 * const storage = new S3Storage({ bucket: "team-lab", prefix: "churn" });
 * const project = await Project.open("project.json", { storage });
 */
export class S3Storage implements Storage {
  readonly kind = "s3";
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #conflictRetries: number;
  readonly #endpoint: string;
  #conditional: boolean | undefined;
  #probing: Promise<boolean> | undefined;

  constructor(options: S3StorageOptions) {
    if (!options.bucket) throw new LabbookError("INVALID_ARGUMENT", "S3Storage needs a bucket name.");
    assertBucketName(options.bucket);
    const prefix = (options.prefix ?? "").replace(/^\/+/, "");
    if (prefix !== "") assertSafeKey(prefix.replace(/\/+$/, ""));
    this.bucket = options.bucket;
    this.prefix = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    // The SDK also takes the endpoint from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: such a server gets
    // path-style addressing like an explicit endpoint, and messages name it, not "AWS S3".
    const envEndpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
    this.client =
      options.client ??
      new S3Client({
        region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        // Custom endpoints (MinIO, moto, Ceph) mostly lack per-bucket host names, so path style is their default.
        forcePathStyle: options.forcePathStyle ?? (options.endpoint ?? envEndpoint) !== undefined,
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        // socketTimeout is the SDK's idle timeout: no byte for this long fails the attempt.
        requestHandler: {
          connectionTimeout: options.connectionTimeout ?? DEFAULT_S3_CONNECTION_TIMEOUT,
          socketTimeout: options.requestTimeout ?? DEFAULT_S3_REQUEST_TIMEOUT,
        },
      });
    this.#endpoint = options.endpoint ?? (options.client ? "the configured S3 endpoint" : (envEndpoint ?? "AWS S3"));
    this.#partSize = Math.max(5 * MiB, options.partSize ?? 8 * MiB);
    this.#queueSize = Math.max(1, options.queueSize ?? 2);
    this.#conflictRetries = options.conflictRetries ?? 4;
    this.#conditional = options.conditionalWrites;
  }

  /**
   * `conditionalWrites` is what the probe found; before the probe has run it is the adapter's claim
   * (true), and every conditional write runs the probe first, so nothing relies on the claim unchecked.
   */
  get capabilities(): StorageCapabilities {
    return { conditionalWrites: this.#conditional ?? true, locking: false, atomicWrites: true };
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  #objectKey(key: string): string {
    assertSafeKey(key);
    return `${this.prefix}${key}`;
  }

  #fail(error: unknown, key: string, action: string): never {
    throw toLabbookError(error, this.describe(key), action, { bucket: this.bucket, endpoint: this.#endpoint });
  }

  /**
   * Check once whether the server honours conditional writes: create a probe key create-only twice
   * (the second must fail), then replace it against an impossible ETag (must fail too). Some
   * S3-compatible servers ignore these headers; then `capabilities.conditionalWrites` becomes false
   * and conditional writes throw UNSUPPORTED instead of silently overwriting.
   */
  async probe(): Promise<boolean> {
    if (this.#conditional !== undefined) return this.#conditional;
    this.#probing ??= this.#runProbe().finally(() => {
      this.#probing = undefined;
    });
    return this.#probing;
  }

  async #runProbe(): Promise<boolean> {
    const key = `${PROBE_FOLDER}/${randomUUID()}`;
    const honoured = async (input: Partial<PutObjectCommandInput>): Promise<boolean> => {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key), Body: "probe", ...input }));
        return false;
      } catch (error) {
        if (isPreconditionFailed(error)) return true;
        if (isNotImplemented(error)) return false;
        this.#fail(error, key, "probe conditional writes at");
      }
    };
    try {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key), Body: "probe", IfNoneMatch: "*" }));
      } catch (error) {
        if (!isNotImplemented(error)) this.#fail(error, key, "probe conditional writes at");
        this.#conditional = false;
        return false;
      }
      const result = (await honoured({ IfNoneMatch: "*" })) && (await honoured({ IfMatch: IMPOSSIBLE_ETAG }));
      this.#conditional = result;
      return result;
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key) })).catch(() => {});
    }
  }

  async #get(key: string, action: string): Promise<GetObjectCommandOutput & { Body: NonNullable<GetObjectCommandOutput["Body"]> }> {
    const objectKey = this.#objectKey(key);
    let output: GetObjectCommandOutput;
    try {
      output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      this.#fail(error, key, action);
    }
    if (!output.Body) throw new LabbookError("STORAGE", `Cannot ${action} ${this.describe(key)}: the server sent no body.`, { path: this.describe(key) });
    return output as GetObjectCommandOutput & { Body: NonNullable<GetObjectCommandOutput["Body"]> };
  }

  /** Stream the body, reporting progress and naming the object if the connection breaks midway. */
  async *#bodyChunks(key: string, body: AsyncIterable<Uint8Array>, total: number | undefined, onProgress?: (p: Progress) => void): AsyncGenerator<Uint8Array> {
    let bytes = 0;
    try {
      for await (const chunk of body) {
        bytes += chunk.byteLength;
        onProgress?.({ bytes, total });
        yield chunk;
      }
    } catch (error) {
      this.#fail(error, key, "read");
    } finally {
      // Stopping early must free the socket.
      (body as Partial<Readable>).destroy?.();
    }
    if (bytes === 0) onProgress?.({ bytes: 0, total });
  }

  async #readAll(key: string, options: ReadOptions | undefined): Promise<{ data: Uint8Array; version: string }> {
    const output = await this.#get(key, "read");
    const max = options?.maxBytes;
    const body = output.Body as AsyncIterable<Uint8Array>;
    if (max !== undefined && output.ContentLength !== undefined && output.ContentLength > max) {
      (body as Partial<Readable>).destroy?.();
      throw tooLargeError(this.describe(key), output.ContentLength, max);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this.#bodyChunks(key, body, output.ContentLength, options?.onProgress)) {
      total += chunk.byteLength;
      // A server that sends more than it announced is cut off at the limit too (stopping the loop frees the socket).
      if (max !== undefined && total > max) throw tooLargeError(this.describe(key), total, max);
      chunks.push(chunk);
    }
    return { data: Buffer.concat(chunks), version: output.ETag ?? "" };
  }

  async read(key: string, options?: ReadOptions): Promise<Uint8Array> {
    return (await this.#readAll(key, options)).data;
  }

  async readVersioned(key: string, options?: ReadOptions): Promise<{ data: Uint8Array; version: string }> {
    return this.#readAll(key, options);
  }

  async readStream(key: string, options?: ReadOptions): Promise<AsyncIterable<Uint8Array>> {
    const output = await this.#get(key, "read");
    return this.#bodyChunks(key, output.Body as AsyncIterable<Uint8Array>, output.ContentLength, options?.onProgress);
  }

  async write(key: string, data: ByteSource, options: WriteOptions = {}): Promise<WriteResult> {
    const objectKey = this.#objectKey(key);
    const conditions: Partial<PutObjectCommandInput> = {};
    if (options.ifNoneMatch === "*") conditions.IfNoneMatch = "*";
    if (options.ifMatch !== undefined) conditions.IfMatch = options.ifMatch;
    if (Object.keys(conditions).length > 0 && !(await this.probe())) {
      throw new LabbookError(
        "UNSUPPORTED",
        `Cannot write ${this.describe(key)} conditionally: the server at ${this.#endpoint} ignores If-None-Match/If-Match, so concurrent writers could overwrite each other silently. Use a server that honours conditional writes (AWS S3, recent MinIO or moto).`,
        { path: this.describe(key) },
      );
    }
    const params: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: objectKey,
      ...conditions,
      ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
    };
    try {
      if (typeof data === "string" || data instanceof Uint8Array) {
        const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
        if (bytes.byteLength < this.#partSize) return await this.#putSmall(params, bytes, options);
        return await this.#upload(params, Readable.from([bytes], { objectMode: false }), bytes.byteLength, options);
      }
      return await this.#upload(params, Readable.from(data, { objectMode: false }), options.size, options);
    } catch (error) {
      // Servers answer a missing key under If-Match with 404 (AWS, moto) or 412: both mean "not the version you read".
      if (options.ifMatch !== undefined && isMissingKey(error)) {
        throw new LabbookError("CONFLICT", `${this.describe(key)} no longer exists, so it is not the version that was read; re-read and retry.`, {
          path: this.describe(key),
          cause: error,
        });
      }
      this.#fail(error, key, "write");
    }
  }

  /** One PutObject; a 409 ConditionalRequestConflict (a concurrent conditional write in flight) is retried, the body being in memory. */
  async #putSmall(params: PutObjectCommandInput, bytes: Uint8Array, options: WriteOptions): Promise<WriteResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        const output = await this.client.send(new PutObjectCommand({ ...params, Body: bytes, ContentLength: bytes.byteLength }));
        options.onProgress?.({ bytes: bytes.byteLength, total: bytes.byteLength });
        return { version: output.ETag ?? "", size: bytes.byteLength };
      } catch (error) {
        if (!isConditionalRequestConflict(error) || attempt >= this.#conflictRetries) throw error;
        await sleep(Math.min(500, 20 * 2 ** attempt) * (0.5 + Math.random()));
      }
    }
  }

  /**
   * Multipart upload (lib-storage): the body is cut into parts of `partSize`, at most `queueSize` in
   * flight, so memory stays flat whatever the size. Small streams end up as one PutObject.
   */
  async #upload(params: PutObjectCommandInput, body: Readable, size: number | undefined, options: WriteOptions): Promise<WriteResult> {
    let sent = 0;
    // Count through a pull-based wrapper: a "data" listener would switch the stream to flowing mode and lose backpressure.
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          sent += chunk.byteLength;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
    const upload = new Upload({ client: this.client, params: { ...params, Body: counted }, partSize: this.#partSize, queueSize: this.#queueSize });
    let reported = -1;
    const report = (bytes: number, total: number | undefined) => {
      if (bytes <= reported) return;
      reported = bytes;
      options.onProgress?.({ bytes, total });
    };
    if (options.onProgress) upload.on("httpUploadProgress", (p) => report(p.loaded ?? 0, p.total ?? size));
    try {
      const output = await upload.done();
      report(sent, sent);
      return { version: output.ETag ?? "", size: sent };
    } catch (error) {
      if (isConditionalRequestConflict(error)) {
        // A stream cannot be replayed; the caller re-reads and retries, as after any conflict.
        throw new LabbookError("CONFLICT", `${params.Key} was being written concurrently (409 ConditionalRequestConflict); retry.`, { cause: error });
      }
      throw error;
    } finally {
      counted.destroy();
      body.destroy();
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const objectKey = this.#objectKey(key);
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return {
        key,
        size: output.ContentLength ?? 0,
        version: output.ETag ?? "",
        ...(output.LastModified ? { lastModified: output.LastModified } : {}),
      };
    } catch (error) {
      if (isMissingKey(error)) return undefined;
      // A HEAD answer has no body, so a 403 does not say why; a one-byte GET gets the reason (bad key, no permission).
      if (httpStatus(error) === 403) this.#fail(await this.#whyDenied(objectKey, error), key, "stat");
      this.#fail(error, key, "stat");
    }
  }

  async #whyDenied(objectKey: string, headError: unknown): Promise<unknown> {
    try {
      const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, Range: "bytes=0-0" }));
      (output.Body as Partial<Readable> | undefined)?.destroy?.();
      return headError;
    } catch (error) {
      return error;
    }
  }

  /** Every object under `prefix`, page by page (1000 keys a request), in S3's key order. */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: `${this.prefix}${prefix}` });
    try {
      for await (const page of pages) {
        for (const item of page.Contents ?? []) {
          if (!item.Key) continue;
          const key = item.Key.slice(this.prefix.length);
          // Folder markers ("a/") made by consoles are not objects of ours.
          if (key.endsWith("/") || key.startsWith(`${PROBE_FOLDER}/`)) continue;
          yield { key, size: item.Size ?? 0, version: item.ETag ?? "", ...(item.LastModified ? { lastModified: item.LastModified } : {}) };
        }
      }
    } catch (error) {
      this.#fail(error, prefix, "list");
    }
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.#objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      if (isMissingKey(error)) return;
      this.#fail(error, key, "delete");
    }
  }

  async copy(from: string, to: string): Promise<void> {
    const source = this.#objectKey(from);
    const target = this.#objectKey(to);
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: copySource(this.bucket, source) }));
    } catch (error) {
      if (isMissingKey(error)) {
        throw new LabbookError("NOT_FOUND", `Cannot copy ${this.describe(from)}: no such object.`, { path: this.describe(from), cause: error });
      }
      // CopyObject stops at 5 GB; bigger objects are streamed through this process instead.
      if (awsErrorName(error) === "InvalidRequest" && /size|large/i.test(String((error as Error).message))) {
        const info = await this.stat(from);
        await this.write(to, await this.readStream(from), info ? { size: info.size } : {});
        return;
      }
      this.#fail(error, from, `copy to ${this.describe(to)} from`);
    }
  }
}
