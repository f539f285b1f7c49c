import { LabbookError } from "../src/errors.js";
import { MemoryStorage } from "../src/memory-storage.js";
import type { ByteSource, ObjectInfo, ReadOptions, Storage, StorageCapabilities, WriteOptions, WriteResult } from "../src/storage.js";

/** A clock that starts at `start` and moves one second on every call, so every event has its own time. */
export function tickingClock(start = "2024-01-02T03:04:05Z"): () => Date {
  let t = Date.parse(start);
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}

const decoder = new TextDecoder();

/**
 * A real MemoryStorage that records which keys were read and written, and can be told to fail
 * writes, for checking laziness, "never rewritten" and failed saves.
 */
export class RecordingStorage implements Storage {
  readonly kind = "recording";
  readonly inner: MemoryStorage;
  readonly capabilities: StorageCapabilities;
  reads: string[] = [];
  writes: string[] = [];
  /** Writes to keys for which this returns true throw a plain Error (a failing disk). */
  failWrite: (key: string) => boolean = () => false;

  constructor(inner = new MemoryStorage(), capabilities?: StorageCapabilities) {
    this.inner = inner;
    this.capabilities = capabilities ?? inner.capabilities;
  }
  reset(): void {
    this.reads = [];
    this.writes = [];
  }
  describe(key: string): string {
    return this.inner.describe(key);
  }
  read(key: string, options?: ReadOptions): Promise<Uint8Array> {
    this.reads.push(key);
    return this.inner.read(key, options);
  }
  readVersioned(key: string): Promise<{ data: Uint8Array; version: string }> {
    this.reads.push(key);
    return this.inner.readVersioned(key);
  }
  readStream(key: string, options?: ReadOptions): Promise<AsyncIterable<Uint8Array>> {
    this.reads.push(key);
    return this.inner.readStream(key, options);
  }
  async write(key: string, data: ByteSource, options?: WriteOptions): Promise<WriteResult> {
    this.writes.push(key);
    if (this.failWrite(key)) throw new Error(`disk full while writing ${key}`);
    return this.inner.write(key, data, options);
  }
  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  copy(from: string, to: string): Promise<void> {
    return this.inner.copy(from, to);
  }
  /** The stored text of `key` (undefined when missing), read without being recorded. */
  async text(key: string): Promise<string | undefined> {
    try {
      return decoder.decode(await this.inner.read(key));
    } catch (error) {
      if (error instanceof LabbookError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }
  async keys(prefix = ""): Promise<string[]> {
    const out: string[] = [];
    for await (const info of this.inner.list(prefix)) out.push(info.key);
    return out;
  }
}

/** The LabbookError a promise or function rejects with (fails the test when it does not). */
export async function caught(fn: () => unknown): Promise<LabbookError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof LabbookError) return error;
    throw new Error(`expected a LabbookError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected a LabbookError, but nothing was thrown");
}
