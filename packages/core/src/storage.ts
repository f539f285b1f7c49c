import { LabbookError } from "./errors.js";

/** What an adapter can really do; the domain reads these instead of asking which adapter it holds. */
export interface StorageCapabilities {
  /** `ifNoneMatch: "*"` and `ifMatch` are honoured atomically by the backend. */
  readonly conditionalWrites: boolean;
  /** `withLock` gives mutual exclusion between processes. */
  readonly locking: boolean;
  /** A reader never sees a partly written object. */
  readonly atomicWrites: boolean;
}

export interface ObjectInfo {
  /** Key relative to the storage root, "/"-separated. */
  readonly key: string;
  readonly size: number;
  /** Opaque token that changes whenever the object is replaced; used with `ifMatch`. */
  readonly version: string;
  readonly lastModified?: Date;
}

export interface Progress {
  readonly bytes: number;
  /** Total bytes when known in advance. */
  readonly total?: number | undefined;
}

export interface WriteOptions {
  /** `"*"`: create only; fails with CONFLICT if the key exists. */
  readonly ifNoneMatch?: "*" | undefined;
  /** Replace only if the stored version is still this one; CONFLICT otherwise (or if missing). */
  readonly ifMatch?: string | undefined;
  readonly contentType?: string | undefined;
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /**
   * Make the object survive a power cut before resolving (local: fsync of the file and its folder).
   * Index commits ask for it; artifact files do not, since their sha256 in the index detects a torn
   * file after a power cut. Adapters whose writes are always durable (S3) ignore it.
   */
  readonly durable?: boolean | undefined;
  /** Total size, when a stream's length is known (for progress and multipart planning). */
  readonly size?: number | undefined;
}

export interface ReadOptions {
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /**
   * Refuse (INVALID_FORMAT) an object bigger than this many bytes before reading it, and stop
   * reading if it grows past it. Index reads pass their size limit so no read can grow without bound.
   */
  readonly maxBytes?: number | undefined;
}

export interface WriteResult {
  readonly version: string;
  readonly size: number;
}

export type ByteSource = Uint8Array | string | AsyncIterable<Uint8Array>;

/**
 * The one port between labbook and bytes. Keys are "/"-separated, relative to the adapter's root,
 * and never contain "..", absolute parts, backslashes or NUL (adapters call `assertSafeKey`).
 */
export interface Storage {
  /** Short adapter name for messages: "memory", "local", "s3". */
  readonly kind: string;
  readonly capabilities: StorageCapabilities;
  /** Where `key` lives, for people: a file path or an s3:// URL. */
  describe(key: string): string;
  /** Whole object. NOT_FOUND when missing. */
  read(key: string, options?: ReadOptions): Promise<Uint8Array>;
  /** Whole object with its version token, for read-modify-write. NOT_FOUND when missing. */
  readVersioned(key: string, options?: ReadOptions): Promise<{ data: Uint8Array; version: string }>;
  /** The object as a stream of chunks. NOT_FOUND when missing. */
  readStream(key: string, options?: ReadOptions): Promise<AsyncIterable<Uint8Array>>;
  /** Write bytes, a string (UTF-8) or a stream, atomically. CONFLICT when a condition fails. */
  write(key: string, data: ByteSource, options?: WriteOptions): Promise<WriteResult>;
  /** Metadata, or undefined when missing. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Remove an object; missing objects are fine. */
  delete(key: string): Promise<void>;
  /** Server-side copy within this storage. NOT_FOUND when the source is missing. */
  copy(from: string, to: string): Promise<void>;
  /**
   * Run `fn` while holding an exclusive lock named by `key` (only when `capabilities.locking`).
   * Adapters without real locking omit it.
   */
  withLock?<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Refuse keys that could leave the storage root. Adapters call this on every key. */
export function assertSafeKey(key: string): void {
  const bad =
    key.length === 0 ||
    key.includes("\0") ||
    key.includes("\\") ||
    key.startsWith("/") ||
    /^[a-zA-Z]:/.test(key) ||
    key.split("/").some((part) => part === ".." || part === "." || part === "");
  if (bad) {
    throw new LabbookError(
      "UNSAFE_PATH",
      `Unsafe storage key ${JSON.stringify(key)}: keys are relative, "/"-separated, without "..", "." or empty parts, backslashes or NUL.`,
      {
        path: key,
      },
    );
  }
}

/**
 * Refuse one name segment (an artifact file name, a test folder) that would escape its folder.
 * Sub-folders are allowed in file names (lazyscribe allows `sub/file.json`), `..` never is.
 */
export function assertSafeRelativePath(name: string, what: string): void {
  try {
    assertSafeKey(name);
  } catch (cause) {
    throw new LabbookError(
      "UNSAFE_PATH",
      `Unsafe ${what} ${JSON.stringify(name)}: it must stay inside its folder (no "..", absolute paths, backslashes or NUL).`,
      {
        path: name,
        cause,
      },
    );
  }
}

/** The INVALID_FORMAT error for an object over a read's `maxBytes`; adapters throw it before reading. */
export function tooLargeError(where: string, size: number, maxBytes: number): LabbookError {
  return new LabbookError(
    "INVALID_FORMAT",
    `${where} is ${size} bytes or more, over the ${maxBytes}-byte limit for this file; it was not read. If it is really an index, raise the limit (option maxIndexBytes).`,
    { path: where },
  );
}

/** Join key parts with "/", skipping empty ones ("" is the storage root). */
export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).join("/");
}

/** The folder part of a key ("" for a key at the root). */
export function dirnameKey(key: string): string {
  const i = key.lastIndexOf("/");
  return i < 0 ? "" : key.slice(0, i);
}

const encoder = new TextEncoder();

/** Collect a ByteSource into one buffer. */
export async function toBytes(data: ByteSource): Promise<Uint8Array> {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of data) {
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
