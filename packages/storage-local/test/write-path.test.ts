/**
 * The write path: small writes made with synchronous calls and the asynchronous path give the same
 * files and the same guarantees (create-only, links followed inside the root and refused outside,
 * no temp file left), folders are made once, and temp names never repeat.
 */
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { LabbookError } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let parent: string;
let root: string;

beforeEach(async () => {
  parent = await mkdtemp(path.join(tmpdir(), "labbook-write-path-"));
  root = path.join(parent, "root");
  await mkdir(root);
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<LabbookError> {
  try {
    await promise;
  } catch (error) {
    return error as LabbookError;
  }
  throw new Error("expected a rejection");
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe.each([
  ["synchronous small writes", {}],
  ["asynchronous writes", { syncWriteBytes: 0 }],
])("%s", (_, options) => {
  const open = () => new LocalStorage(root, options);

  it("create-only writes in new nested folders; a taken name is CONFLICT and keeps its bytes; the version is the file's", async () => {
    const storage = open();
    const first = await storage.write("a/b/c.json", '{"x":1}', { ifNoneMatch: "*" });
    await storage.write("a/b/d.json", new Uint8Array([1, 2]), { ifNoneMatch: "*" });
    const error = await rejection(storage.write("a/b/c.json", "other", { ifNoneMatch: "*" }));
    expect(error.code).toBe("CONFLICT");
    expect(await readFile(path.join(root, "a/b/c.json"), "utf8")).toBe('{"x":1}');
    expect(first).toEqual({ version: (await storage.readVersioned("a/b/c.json")).version, size: 7 });
    expect(await files(root)).toEqual(["a/b/c.json", "a/b/d.json"]);
  });

  it("a plain write replaces the file; the version it returns lets an ifMatch write through, and a stale one is CONFLICT", async () => {
    const storage = open();
    const { version } = await storage.write("k/v.txt", "one");
    const second = await storage.write("k/v.txt", "two", { ifMatch: version });
    expect(await readFile(path.join(root, "k/v.txt"), "utf8")).toBe("two");
    expect((await rejection(storage.write("k/v.txt", "three", { ifMatch: version }))).code).toBe("CONFLICT");
    expect(second.version).toBe((await storage.readVersioned("k/v.txt")).version);
    expect(await files(root)).toEqual(["k/v.txt"]);
  });

  it("a create-only write through a link to a missing file inside the root creates the link's target", async () => {
    await mkdir(path.join(root, "real"));
    await mkdir(path.join(root, "exp"));
    await symlink(path.join(root, "real", "target.json"), path.join(root, "exp", "a.json"));
    await open().write("exp/a.json", "linked", { ifNoneMatch: "*" });
    expect(await readFile(path.join(root, "real", "target.json"), "utf8")).toBe("linked");
    expect((await lstat(path.join(root, "exp", "a.json"))).isSymbolicLink()).toBe(true);
  });

  it("a create-only write through a link leading out of the root is UNSAFE_PATH and writes nothing there", async () => {
    const outside = path.join(parent, "outside");
    await mkdir(outside);
    await mkdir(path.join(root, "exp"));
    await symlink(path.join(outside, "target.json"), path.join(root, "exp", "a.json"));
    const error = await rejection(open().write("exp/a.json", "escape", { ifNoneMatch: "*" }));
    expect(error.code).toBe("UNSAFE_PATH");
    expect(await readdir(outside)).toEqual([]);
    expect(await files(root)).toEqual(["exp/a.json"]);
  });

  it("a folder linked out of the root is refused before anything is made in it, also after other folders were made", async () => {
    const storage = open();
    await storage.write("first/a.txt", "a");
    const outside = path.join(parent, "outside");
    await mkdir(outside);
    await symlink(outside, path.join(root, "linked"));
    const error = await rejection(storage.write("linked/sub/a.txt", "x", { ifNoneMatch: "*" }));
    expect(error.code).toBe("UNSAFE_PATH");
    expect(await readdir(outside)).toEqual([]);
  });

  it("a folder removed behind the storage's back is made again on the next write", async () => {
    const storage = open();
    await storage.write("gone/a.txt", "a");
    await rm(path.join(root, "gone"), { recursive: true });
    await storage.write("gone/b.txt", "b");
    expect(await files(root)).toEqual(["gone/b.txt"]);
  });

  it("a file where a folder should be fails typed and leaves no temp file", async () => {
    await writeFile(path.join(root, "plain"), "not a folder");
    const error = await rejection(open().write("plain/a.txt", "x"));
    expect(error.code).toBe("STORAGE");
    expect(await files(root)).toEqual(["plain"]);
  });
});

describe("the synchronous path", () => {
  it("is taken only for small writes: a bigger one, a stream and an fsynced one still land whole", async () => {
    const storage = new LocalStorage(root, { syncWriteBytes: 4 });
    const big = new Uint8Array(100_000).fill(7);
    await storage.write("x/small.bin", new Uint8Array([1, 2, 3]));
    await storage.write("x/big.bin", big, { ifNoneMatch: "*" });
    await storage.write("x/durable.bin", new Uint8Array([9]), { durable: true });
    async function* chunks() {
      yield new Uint8Array([4, 5]);
      yield new Uint8Array([6]);
    }
    await storage.write("x/stream.bin", chunks(), { ifNoneMatch: "*" });
    expect(await files(root)).toEqual(["x/big.bin", "x/durable.bin", "x/small.bin", "x/stream.bin"]);
    expect(Buffer.compare(await readFile(path.join(root, "x/big.bin")), Buffer.from(big))).toBe(0);
    expect([...(await readFile(path.join(root, "x/stream.bin")))]).toEqual([4, 5, 6]);
  });

  it("reports progress once, with the size", async () => {
    const seen: unknown[] = [];
    await new LocalStorage(root).write("p.txt", "hello", { onProgress: (p) => seen.push(p) });
    expect(seen).toEqual([{ bytes: 5, total: 5 }]);
  });
});

describe("temp names", () => {
  it("never repeat: a thousand writes of one name at once each land whole, one at a time", async () => {
    const storage = new LocalStorage(root, { syncWriteBytes: 0 });
    const values = Array.from({ length: 1000 }, (_, i) => `value-${i}-${"x".repeat(i % 50)}`);
    await Promise.all(values.map((v) => storage.write("same.txt", v)));
    expect(values).toContain(await readFile(path.join(root, "same.txt"), "utf8"));
    expect(await files(root)).toEqual(["same.txt"]);
  });
});
