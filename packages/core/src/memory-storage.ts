import { LabbookError } from "./errors.js";
import {
  assertSafeKey,
  type ByteSource,
  type ObjectInfo,
  type ReadOptions,
  type Storage,
  type StorageCapabilities,
  toBytes,
  tooLargeError,
  type WriteOptions,
  type WriteResult,
} from "./storage.js";

interface Entry {
  data: Uint8Array;
  version: string;
  lastModified: Date;
}

/**
 * Storage in process memory, for tests and throwaway projects. Honours conditional writes and
 * locks within the process. Shared between Storage instances when given the same `store` map.
 */
export class MemoryStorage implements Storage {
  readonly kind = "memory";
  readonly capabilities: StorageCapabilities = { conditionalWrites: true, locking: true, atomicWrites: true };
  private readonly objects: Map<string, Entry>;
  private counter = 0;
  private readonly locks = new Map<string, Promise<void>>();

  constructor(options: { store?: Map<string, Entry> | undefined } = {}) {
    this.objects = options.store ?? new Map();
  }

  describe(key: string): string {
    return `memory://${key}`;
  }

  private get(key: string): Entry {
    assertSafeKey(key);
    const entry = this.objects.get(key);
    if (!entry) throw new LabbookError("NOT_FOUND", `No object at ${this.describe(key)}.`, { path: this.describe(key) });
    return entry;
  }

  private bounded(key: string, options: ReadOptions | undefined): Entry {
    const entry = this.get(key);
    const max = options?.maxBytes;
    if (max !== undefined && entry.data.byteLength > max) throw tooLargeError(this.describe(key), entry.data.byteLength, max);
    return entry;
  }

  async read(key: string, options?: ReadOptions): Promise<Uint8Array> {
    const data = this.bounded(key, options).data.slice();
    options?.onProgress?.({ bytes: data.byteLength, total: data.byteLength });
    return data;
  }

  async readVersioned(key: string, options?: ReadOptions): Promise<{ data: Uint8Array; version: string }> {
    const entry = this.bounded(key, options);
    return { data: entry.data.slice(), version: entry.version };
  }

  async readStream(key: string, options?: ReadOptions): Promise<AsyncIterable<Uint8Array>> {
    const data = this.get(key).data;
    const chunk = 64 * 1024;
    return (async function* () {
      for (let i = 0; i < data.byteLength; i += chunk) {
        const end = Math.min(i + chunk, data.byteLength);
        yield data.slice(i, end);
        options?.onProgress?.({ bytes: end, total: data.byteLength });
      }
    })();
  }

  async write(key: string, data: ByteSource, options: WriteOptions = {}): Promise<WriteResult> {
    assertSafeKey(key);
    const bytes = (await toBytes(data)).slice();
    // Check the condition after the body is collected so that the check and the store are one step.
    const existing = this.objects.get(key);
    if (options.ifNoneMatch === "*" && existing) {
      throw new LabbookError("CONFLICT", `${this.describe(key)} already exists.`, { path: this.describe(key) });
    }
    if (options.ifMatch !== undefined && existing?.version !== options.ifMatch) {
      throw new LabbookError("CONFLICT", `${this.describe(key)} changed since it was read.`, { path: this.describe(key) });
    }
    const version = `m${++this.counter}-${Date.now()}`;
    this.objects.set(key, { data: bytes, version, lastModified: new Date() });
    options.onProgress?.({ bytes: bytes.byteLength, total: bytes.byteLength });
    return { version, size: bytes.byteLength };
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    const e = this.objects.get(key);
    return e ? { key, size: e.data.byteLength, version: e.version, lastModified: e.lastModified } : undefined;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const e = this.objects.get(key);
      if (e) yield { key, size: e.data.byteLength, version: e.version, lastModified: e.lastModified };
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    this.objects.delete(key);
  }

  async copy(from: string, to: string): Promise<void> {
    const src = this.get(from);
    assertSafeKey(to);
    this.objects.set(to, { data: src.data.slice(), version: `m${++this.counter}-${Date.now()}`, lastModified: new Date() });
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    assertSafeKey(key);
    const previous = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((r) => (release = r));
    const chained = previous.then(() => current);
    this.locks.set(key, chained);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === chained) this.locks.delete(key);
    }
  }
}
