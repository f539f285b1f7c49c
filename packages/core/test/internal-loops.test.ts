import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isLabbookError, LabbookError, MemoryStorage, type StorageCapabilities, type WriteOptions } from "../src/index.js";
import { catchUpIndex, createUnderFreeName, MAX_FNAME_TRIES, writeHashed } from "../src/internal.js";

/** A storage that ignores conditions, as a plain S3-compatible server without conditional writes does. */
class PlainStorage extends MemoryStorage {
  override readonly capabilities: StorageCapabilities = { conditionalWrites: false, locking: false, atomicWrites: true };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("createUnderFreeName (the one create-under-a-free-name loop)", () => {
  for (const [label, make] of [
    ["create-only writes", () => new MemoryStorage()],
    ["a stat first (no conditional writes)", () => new PlainStorage()],
  ] as const) {
    it(`never replaces a file and takes the first free variant, with ${label}`, async () => {
      const storage = make();
      await storage.write("d/m.json", "old");
      await storage.write("d/m-1.json", "old 1");
      const seen: WriteOptions[] = [];
      const got = await createUnderFreeName({
        storage,
        folder: "d",
        requested: "m.json",
        name: "m",
        write: async (key, options) => {
          seen.push(options);
          await storage.write(key, "new", options);
        },
      });
      expect(got).toEqual({ fname: "m-2.json", key: "d/m-2.json" });
      expect(text(await storage.read("d/m.json"))).toBe("old");
      expect(text(await storage.read("d/m-1.json"))).toBe("old 1");
      expect(text(await storage.read("d/m-2.json"))).toBe("new");
      expect(seen.at(-1)).toEqual(storage.capabilities.conditionalWrites ? { ifNoneMatch: "*" } : {});
    });
  }

  it("skips names the caller knows are taken, starts at `first`, and treats a SAVE_FAILED caused by CONFLICT as taken", async () => {
    const storage = new MemoryStorage();
    const tried: string[] = [];
    const got = await createUnderFreeName({
      storage,
      folder: "d",
      requested: "m",
      first: 1,
      taken: (fname) => fname === "m-1",
      name: "m",
      write: async (key) => {
        tried.push(key);
        if (key === "d/m-2") throw new LabbookError("SAVE_FAILED", "wrapped", { cause: new LabbookError("CONFLICT", "taken") });
        await storage.write(key, "x");
      },
    });
    expect(tried).toEqual(["d/m-2", "d/m-3"]);
    expect(got.fname).toBe("m-3");
  });

  it("passes other write errors through and gives up typed after MAX_FNAME_TRIES names", async () => {
    const storage = new MemoryStorage();
    const boom = new LabbookError("SAVE_FAILED", "disk full");
    await expect(createUnderFreeName({ storage, folder: "d", requested: "m", name: "m", write: () => Promise.reject(boom) })).rejects.toBe(boom);
    let calls = 0;
    const error = await createUnderFreeName({
      storage,
      folder: "d",
      requested: "m.txt",
      name: "m",
      write: () => {
        calls++;
        return Promise.reject(new LabbookError("CONFLICT", "taken"));
      },
    }).catch((e: unknown) => e);
    expect(calls).toBe(MAX_FNAME_TRIES);
    expect(isLabbookError(error, "SAVE_FAILED")).toBe(true);
    expect((error as LabbookError).message).toContain('near "m.txt"');
  });
});

describe("writeHashed (the one hashing writer)", () => {
  it("reports the size and sha256 of what it wrote, for text, bytes and a stream", async () => {
    const storage = new MemoryStorage();
    async function* chunks() {
      yield new TextEncoder().encode("ab");
      yield new TextEncoder().encode("cdé");
    }
    expect(await writeHashed(storage, "s", "abcdé")).toEqual({ size: 6, sha256: sha("abcdé") });
    expect(await writeHashed(storage, "b", new TextEncoder().encode("abcdé"))).toEqual({ size: 6, sha256: sha("abcdé") });
    expect(await writeHashed(storage, "c", chunks())).toEqual({ size: 6, sha256: sha("abcdé") });
    for (const key of ["s", "b", "c"]) expect(text(await storage.read(key))).toBe("abcdé");
    await expect(writeHashed(storage, "c", "again", { ifNoneMatch: "*" })).rejects.toSatisfy((e) => isLabbookError(e, "CONFLICT"));
  });
});

describe("catchUpIndex (the one catch-up after a conflict)", () => {
  const run = async (storage: MemoryStorage, known: string | undefined) => {
    const calls: string[] = [];
    await catchUpIndex({
      storage,
      key: "index.json",
      known,
      read: async () => {
        calls.push("read");
        return (await storage.readVersioned("index.json")).version;
      },
      gone: () => calls.push("gone"),
      merge: (version) => calls.push(`merge ${version}`),
    });
    return calls;
  };

  it("reads nothing when the index is unchanged, merges a changed one, and resets when it is gone", async () => {
    const storage = new MemoryStorage();
    const first = (await storage.write("index.json", "[]")).version;
    expect(await run(storage, first)).toEqual([]);
    const second = (await storage.write("index.json", "[1]")).version;
    expect(await run(storage, first)).toEqual(["read", `merge ${second}`]);
    await storage.delete("index.json");
    expect(await run(storage, second)).toEqual(["gone"]);
    expect(await run(storage, undefined)).toEqual(["gone"]);
  });
});
