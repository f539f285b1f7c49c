import path from "node:path";
import { fileURLToPath } from "node:url";
import { type ByteSource, LabbookError, Project, type ReadOptions, type Storage, type WriteOptions } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import type { ProjectOpener } from "../src/index.js";

/** A Storage that counts whole-object reads per key, to prove upstreams are read lazily and once. */
export class CountingStorage implements Storage {
  readonly reads = new Map<string, number>();
  constructor(readonly inner: Storage) {}
  get kind() {
    return this.inner.kind;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  #count(key: string) {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
  }
  readsOf(key: string): number {
    return this.reads.get(key) ?? 0;
  }
  describe(key: string) {
    return this.inner.describe(key);
  }
  read(key: string, options?: ReadOptions) {
    this.#count(key);
    return this.inner.read(key, options);
  }
  readVersioned(key: string) {
    this.#count(key);
    return this.inner.readVersioned(key);
  }
  readStream(key: string, options?: ReadOptions) {
    this.#count(key);
    return this.inner.readStream(key, options);
  }
  write(key: string, data: ByteSource, options?: WriteOptions) {
    return this.inner.write(key, data, options);
  }
  stat(key: string) {
    return this.inner.stat(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  copy(from: string, to: string) {
    return this.inner.copy(from, to);
  }
}

/**
 * A project opener for local paths, like the one the labbook umbrella supplies (which also knows
 * s3://); `wrap` lets a test count reads on the storages it makes.
 */
export function localOpener(wrap: (storage: Storage, file: string) => Storage = (s) => s): ProjectOpener {
  return async (location, { mode, registry }) => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith("file://")) {
      throw new LabbookError("UNSUPPORTED", `test opener only opens local paths, not ${location}`);
    }
    const file = location.startsWith("file://") ? fileURLToPath(location) : path.resolve(location);
    const full = path.extname(file) === ".json" ? file : path.join(file, "project.json");
    return Project.open(path.basename(full), { storage: wrap(new LocalStorage(path.dirname(full)), full), mode, registry });
  };
}

/** A fixed clock that advances one second per call. */
export function steppingClock(start = "2024-01-01T00:00:00Z"): () => Date {
  let t = Date.parse(start);
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}
