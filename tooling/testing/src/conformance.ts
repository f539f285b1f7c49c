import { createHash, randomBytes } from "node:crypto";
import { isLabbookError, type Progress, type Storage, type StorageCapabilities } from "@labbook/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

/** Makes a fresh, empty storage for one test; `dispose` (optional) cleans up after it. */
export type StorageFactory = () => Promise<Storage | { storage: Storage; dispose(): Promise<void> }>;

export interface ConformanceOptions {
  /** What the adapter must declare; the conditional-write and lock tests run only when these say so. */
  capabilities: StorageCapabilities;
  /** Keys written for the listing test (default 1100, past S3's 1000-key page). */
  manyKeys?: number;
  /** Size of the streamed round trip (default 100 MiB). */
  bigObjectBytes?: number;
  /** Concurrent writers in the contention tests (default 8). */
  writers?: number;
  /** Timeout of the slow tests in ms (default 300 000). */
  slowTimeoutMs?: number;
  /** Register nothing but a skipped suite (a server that is missing outside CI). */
  skip?: boolean;
  /** Adapter-specific tests, registered inside the same describe block with access to the fresh storage. */
  extras?: (storage: () => Storage) => void;
  /**
   * Whether two version tokens name the same stored state (default: equal strings). The local
   * adapter's token of a file written moments ago carries a content digest that a later token of the
   * same, settled file does not (see docs/storage-local.md, "Version tokens").
   */
  sameVersion?: (a: string, b: string) => boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MiB = 1024 * 1024;

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return isLabbookError(error) ? error.code : `not a LabbookError: ${String(error)}`;
  }
}

/** A deterministic stream of `total` bytes in 1 MiB chunks, fresh buffers each (consumers may keep them). */
function bigSource(total: number): { stream: AsyncIterable<Uint8Array>; sha256: string } {
  const base = randomBytes(MiB);
  const hash = createHash("sha256");
  const chunks: number[] = [];
  for (let done = 0; done < total; done += MiB) chunks.push(Math.min(MiB, total - done));
  // Hash first from the same recipe so the expected digest never depends on what the adapter did.
  chunks.forEach((size, i) => {
    hash.update(chunkAt(base, i, size));
  });
  return {
    sha256: hash.digest("hex"),
    stream: (async function* () {
      for (const [i, size] of chunks.entries()) yield chunkAt(base, i, size);
    })(),
  };
}

function chunkAt(base: Buffer, index: number, size: number): Buffer {
  const chunk = Buffer.from(base.subarray(0, size));
  if (size >= 4) chunk.writeUInt32BE(index, 0);
  return chunk;
}

async function settle<T>(tasks: Promise<T>[]): Promise<{ won: number[]; codes: string[] }> {
  const results = await Promise.allSettled(tasks);
  const won: number[] = [];
  const codes: string[] = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") won.push(i);
    else codes.push(isLabbookError(r.reason) ? r.reason.code : `not a LabbookError: ${String(r.reason)}`);
  });
  return { won, codes };
}

const UNSAFE_KEYS = ["../escape", "/absolute", "a/../../b", "a\\b", "nul\0byte", "", "a//b", "./a", "a/.", "C:/windows"];

/**
 * Register the same tests for a Storage adapter (keyv's test-suite / unstorage's testDriver style).
 * Every adapter in the monorepo calls this from its own test file.
 *
 * @example
 * describeStorageConformance("memory", async () => new MemoryStorage(), {
 *   capabilities: { conditionalWrites: true, locking: true, atomicWrites: true },
 * });
 */
export function describeStorageConformance(name: string, factory: StorageFactory, options: ConformanceOptions): void {
  const manyKeys = options.manyKeys ?? 1100;
  const bigBytes = options.bigObjectBytes ?? 100 * MiB;
  const writers = options.writers ?? 8;
  const slow = options.slowTimeoutMs ?? 300_000;
  const same = (a: string, b: string): boolean => (options.sameVersion ? options.sameVersion(a, b) : a === b);
  const suite = options.skip ? describe.skip : describe;

  suite(`Storage conformance: ${name}`, () => {
    let storage: Storage;
    let dispose: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const made = await factory();
      if ("dispose" in made && "storage" in made) {
        storage = made.storage;
        dispose = () => made.dispose();
      } else {
        storage = made as Storage;
        dispose = undefined;
      }
    });
    afterEach(async () => {
      await dispose?.();
    });

    it("declares its capabilities", () => {
      expect({ ...storage.capabilities }).toEqual(options.capabilities);
      expect(typeof storage.kind).toBe("string");
      expect(storage.describe("a/b.json")).toContain("b.json");
    });

    it("round-trips an empty object", async () => {
      const result = await storage.write("empty/zero.bin", new Uint8Array(0));
      expect(result.size).toBe(0);
      expect((await storage.read("empty/zero.bin")).byteLength).toBe(0);
      expect((await collect(await storage.readStream("empty/zero.bin"))).byteLength).toBe(0);
      expect((await storage.stat("empty/zero.bin"))?.size).toBe(0);
    });

    it("round-trips small bytes and strings with a version token", async () => {
      const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255]);
      const written = await storage.write("small/bytes.bin", bytes);
      expect(written.size).toBe(6);
      expect(written.version).toMatch(/.+/);
      expect([...(await storage.read("small/bytes.bin"))]).toEqual([...bytes]);
      const versioned = await storage.readVersioned("small/bytes.bin");
      expect([...versioned.data]).toEqual([...bytes]);
      expect(same(versioned.version, written.version), `${versioned.version} names ${written.version}`).toBe(true);
      const info = await storage.stat("small/bytes.bin");
      expect(info).toMatchObject({ key: "small/bytes.bin", size: 6 });
      expect(same(info?.version ?? "", written.version), `${info?.version} names ${written.version}`).toBe(true);

      const text = '{"name": "caf\u00e9 \u2603"}';
      const w2 = await storage.write("small/text.json", text);
      expect(w2.size).toBe(encoder.encode(text).byteLength);
      expect(decoder.decode(await storage.read("small/text.json"))).toBe(text);
    });

    it("round-trips unicode-named keys", async () => {
      const key = "donn\u00e9es/\u5b9f\u9a13 \ud83e\uddea/r\u00e9sum\u00e9 (1)+%20.json";
      await storage.write(key, "unicode");
      expect(decoder.decode(await storage.read(key))).toBe("unicode");
      expect((await storage.stat(key))?.key).toBe(key);
      const listed: string[] = [];
      for await (const info of storage.list("donn\u00e9es/")) listed.push(info.key);
      expect(listed).toEqual([key]);
      await storage.copy(key, `${key}.copy`);
      expect(decoder.decode(await storage.read(`${key}.copy`))).toBe("unicode");
    });

    it("replacing an object changes its version", async () => {
      const first = await storage.write("v/a.txt", "one");
      const second = await storage.write("v/a.txt", "two");
      expect(second.version).not.toBe(first.version);
      expect(decoder.decode(await storage.read("v/a.txt"))).toBe("two");
    });

    it("reports missing objects: NOT_FOUND on reads, undefined from stat", async () => {
      expect(await codeOf(storage.read("missing/x"))).toBe("NOT_FOUND");
      expect(await codeOf(storage.readVersioned("missing/x"))).toBe("NOT_FOUND");
      expect(await codeOf(storage.readStream("missing/x").then(collect))).toBe("NOT_FOUND");
      expect(await storage.stat("missing/x")).toBeUndefined();
    });

    it("streams a small object in and out", async () => {
      const parts = ["alpha,", "beta,", "gamma"].map((s) => encoder.encode(s));
      const written = await storage.write(
        "stream/s.txt",
        (async function* () {
          yield* parts;
        })(),
      );
      expect(written.size).toBe(16);
      expect(decoder.decode(await collect(await storage.readStream("stream/s.txt")))).toBe("alpha,beta,gamma");
    });

    it(
      `round-trips a ${Math.round(bigBytes / MiB)} MiB object as streams, with progress`,
      async () => {
        const source = bigSource(bigBytes);
        const writeProgress: Progress[] = [];
        const written = await storage.write("big/blob.bin", source.stream, {
          size: bigBytes,
          onProgress: (p) => writeProgress.push(p),
        });
        expect(written.size).toBe(bigBytes);
        expect(writeProgress.at(-1)?.bytes).toBe(bigBytes);
        const doneBytes = writeProgress.map((p) => p.bytes);
        expect(doneBytes).toEqual([...doneBytes].sort((a, b) => a - b));
        expect((await storage.stat("big/blob.bin"))?.size).toBe(bigBytes);

        const readProgress: Progress[] = [];
        const hash = createHash("sha256");
        let size = 0;
        for await (const chunk of await storage.readStream("big/blob.bin", { onProgress: (p) => readProgress.push(p) })) {
          hash.update(chunk);
          size += chunk.byteLength;
        }
        expect(size).toBe(bigBytes);
        expect(hash.digest("hex")).toBe(source.sha256);
        expect(readProgress.at(-1)).toEqual({ bytes: bigBytes, total: bigBytes });
      },
      slow,
    );

    it(
      `lists ${manyKeys} keys by prefix, in key order`,
      async () => {
        const keys = Array.from({ length: manyKeys }, (_, i) => `many/k-${String(i).padStart(5, "0")}`);
        const batch = 32;
        for (let i = 0; i < keys.length; i += batch) {
          await Promise.all(keys.slice(i, i + batch).map((k) => storage.write(k, k)));
        }
        await storage.write("manyx/other", "x");
        await storage.write("man", "x");
        const listed: { key: string; size: number }[] = [];
        for await (const info of storage.list("many/")) listed.push({ key: info.key, size: info.size });
        expect(listed.map((i) => i.key)).toEqual(keys);
        expect(listed.every((i) => i.size === i.key.length)).toBe(true);

        const partial: string[] = [];
        for await (const info of storage.list("many/k-0001")) partial.push(info.key);
        expect(partial).toEqual(keys.filter((k) => k.startsWith("many/k-0001")));

        const all: string[] = [];
        for await (const info of storage.list("")) all.push(info.key);
        expect(all).toEqual([...keys, "man", "manyx/other"].sort());
      },
      slow,
    );

    it("copies objects server-side", async () => {
      await storage.write("c/src.txt", "source");
      await storage.copy("c/src.txt", "c/sub/dst.txt");
      await storage.write("c/src.txt", "changed");
      expect(decoder.decode(await storage.read("c/sub/dst.txt"))).toBe("source");
      expect(decoder.decode(await storage.read("c/src.txt"))).toBe("changed");
      expect(await codeOf(storage.copy("c/none.txt", "c/other.txt"))).toBe("NOT_FOUND");
      expect(await storage.stat("c/other.txt")).toBeUndefined();
    });

    it("deletes objects; deleting a missing one is fine", async () => {
      await storage.write("d/x.txt", "x");
      await storage.write("d/y.txt", "y");
      await storage.delete("d/x.txt");
      expect(await storage.stat("d/x.txt")).toBeUndefined();
      expect(await codeOf(storage.read("d/x.txt"))).toBe("NOT_FOUND");
      await storage.delete("d/x.txt");
      await storage.delete("d/never.txt");
      const left: string[] = [];
      for await (const info of storage.list("d/")) left.push(info.key);
      expect(left).toEqual(["d/y.txt"]);
    });

    it("refuses unsafe keys with UNSAFE_PATH and writes nothing", async () => {
      await storage.write("safe.txt", "safe");
      for (const key of UNSAFE_KEYS) {
        const label = JSON.stringify(key);
        expect(await codeOf(storage.write(key, "x")), `write ${label}`).toBe("UNSAFE_PATH");
        expect(await codeOf(storage.read(key)), `read ${label}`).toBe("UNSAFE_PATH");
        expect(await codeOf(storage.readVersioned(key)), `readVersioned ${label}`).toBe("UNSAFE_PATH");
        expect(await codeOf(storage.readStream(key)), `readStream ${label}`).toBe("UNSAFE_PATH");
        expect(await codeOf(storage.stat(key)), `stat ${label}`).toBe("UNSAFE_PATH");
        expect(await codeOf(storage.delete(key)), `delete ${label}`).toBe("UNSAFE_PATH");
        expect(await codeOf(storage.copy("safe.txt", key)), `copy to ${label}`).toBe("UNSAFE_PATH");
        expect(await codeOf(storage.copy(key, "copied.txt")), `copy from ${label}`).toBe("UNSAFE_PATH");
      }
      const all: string[] = [];
      for await (const info of storage.list("")) all.push(info.key);
      expect(all).toEqual(["safe.txt"]);
    });

    if (options.capabilities.conditionalWrites)
      describe("conditional writes", () => {
        it("create-only fails with CONFLICT when the key exists and keeps the stored bytes", async () => {
          const created = await storage.write("cw/once.txt", "first", { ifNoneMatch: "*" });
          expect(created.version).toMatch(/.+/);
          expect(await codeOf(storage.write("cw/once.txt", "second", { ifNoneMatch: "*" }))).toBe("CONFLICT");
          const streamed = (async function* () {
            yield encoder.encode("third");
          })();
          expect(await codeOf(storage.write("cw/once.txt", streamed, { ifNoneMatch: "*" }))).toBe("CONFLICT");
          expect(decoder.decode(await storage.read("cw/once.txt"))).toBe("first");
        });

        it("replace-if-unchanged succeeds on the current version only", async () => {
          const v1 = await storage.write("cw/doc.txt", "v1");
          const v2 = await storage.write("cw/doc.txt", "v2", { ifMatch: v1.version });
          expect(await codeOf(storage.write("cw/doc.txt", "stale", { ifMatch: v1.version }))).toBe("CONFLICT");
          expect(decoder.decode(await storage.read("cw/doc.txt"))).toBe("v2");
          const v3 = await storage.write("cw/doc.txt", "v3", { ifMatch: v2.version });
          const current = (await storage.readVersioned("cw/doc.txt")).version;
          expect(same(current, v3.version), `${current} names ${v3.version}`).toBe(true);
        });

        it("replace-if-unchanged on a missing key is a CONFLICT", async () => {
          const gone = await storage.write("cw/gone.txt", "here");
          await storage.delete("cw/gone.txt");
          expect(await codeOf(storage.write("cw/gone.txt", "again", { ifMatch: gone.version }))).toBe("CONFLICT");
          expect(await codeOf(storage.write("cw/never.txt", "x", { ifMatch: gone.version }))).toBe("CONFLICT");
          expect(await storage.stat("cw/gone.txt")).toBeUndefined();
          expect(await storage.stat("cw/never.txt")).toBeUndefined();
        });

        it(`${writers} concurrent create-only writes of one key: exactly one wins`, async () => {
          const { won, codes } = await settle(Array.from({ length: writers }, (_, i) => storage.write("race/new.txt", `writer ${i}`, { ifNoneMatch: "*" })));
          expect(won).toHaveLength(1);
          expect(codes).toEqual(Array(writers - 1).fill("CONFLICT"));
          expect(decoder.decode(await storage.read("race/new.txt"))).toBe(`writer ${won[0]}`);
        });

        it(`${writers} concurrent replace-if-unchanged writes from one version: exactly one wins`, async () => {
          const base = await storage.write("race/doc.txt", "base");
          const { won, codes } = await settle(
            Array.from({ length: writers }, (_, i) => storage.write("race/doc.txt", `writer ${i}`, { ifMatch: base.version })),
          );
          expect(won).toHaveLength(1);
          expect(codes).toEqual(Array(writers - 1).fill("CONFLICT"));
          expect(decoder.decode(await storage.read("race/doc.txt"))).toBe(`writer ${won[0]}`);
        });
      });

    // Capabilities decide which tests exist (registering skipped ones would read as missing tests).
    if (!options.capabilities.locking) {
      it("offers no withLock, as it declares no locking", () => {
        expect(storage.withLock).toBeUndefined();
      });
    } else
      describe("locks", () => {
        it("withLock runs holders of one key one at a time", async () => {
          expect(storage.withLock).toBeTypeOf("function");
          const withLock = storage.withLock?.bind(storage);
          if (!withLock) return;
          let inside = 0;
          let most = 0;
          await Promise.all(
            Array.from({ length: 4 }, () =>
              withLock("locks/one", async () => {
                inside++;
                most = Math.max(most, inside);
                await new Promise((r) => setTimeout(r, 20));
                inside--;
              }),
            ),
          );
          expect(most).toBe(1);
        });
      });

    options.extras?.(() => storage);
  });
}
