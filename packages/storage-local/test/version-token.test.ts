/**
 * The version token must not repeat for a different file (issue 12). inode, size and mtime can all
 * come back (ext4 reuses a freed inode at once, mtime moves in coarse ticks), so a token taken while
 * the file is "racy" (changed within the last second) carries the content's sha256, and the
 * conditional replace hashes the current file when the stat part matches. The repeat is made here
 * the deterministic way: the file is rewritten in place at the same size and its mtime put back.
 */
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import { mkdtemp, open, rm, stat, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { LabbookError } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// Count sha256 objects made, to see which paths hash and which do not.
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  return { ...real, createHash: vi.fn(real.createHash) };
});
const createHash = vi.mocked(crypto.createHash);
const run = promisify(execFile);

let root: string;
let storage: LocalStorage;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "labbook-version-token-"));
  storage = new LocalStorage(root);
  createHash.mockClear();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<LabbookError> {
  try {
    await promise;
  } catch (error) {
    return error as LabbookError;
  }
  throw new Error("expected a rejection");
}

/** Set the file's mtime to `seconds` (a ms-precise value, so setting it twice gives the same ns). */
async function setMtime(file: string, seconds: number): Promise<bigint> {
  await utimes(file, seconds, seconds);
  return (await stat(file, { bigint: true })).mtimeNs;
}

/** Rewrite the file in place (same inode) with `text` of the same length, then put its mtime back. */
async function rewriteInPlace(file: string, text: string, seconds: number): Promise<void> {
  const before = await stat(file, { bigint: true });
  const handle = await open(file, "r+");
  try {
    await handle.write(text, 0);
  } finally {
    await handle.close();
  }
  await setMtime(file, seconds);
  const after = await stat(file, { bigint: true });
  // The precondition of the whole test: the stat part of the token really is what it was.
  expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
}

// A minute ahead, to the ms: a stamp in the future stays racy however slow the machine is.
const recent = () => Math.floor(Date.now() + 60_000) / 1000;
const settled = () => Math.floor(Date.now() - 60_000) / 1000; // a minute ago, to the ms

describe("version tokens", () => {
  it("a stale ifMatch is CONFLICT when a different file repeats inode, size and mtime", async () => {
    await storage.write("index.json", "AAAA");
    const file = path.join(root, "index.json");
    const when = recent();
    await setMtime(file, when);
    const { version } = await storage.readVersioned("index.json");
    await rewriteInPlace(file, "BBBB", when);
    expect((await rejection(storage.write("index.json", "CCCC", { ifMatch: version }))).code).toBe("CONFLICT");
    expect((await storage.read("index.json")).toString()).toBe("BBBB");
    // stat() (catch-up's "unchanged?") sees the change too, and so does a fresh read.
    expect((await storage.stat("index.json"))?.version).not.toBe(version);
    expect((await storage.readVersioned("index.json")).version).not.toBe(version);
  });

  it("the version a write returns is refused once the file repeats its stat with other bytes", async () => {
    const written = await storage.write("index.json", "AAAA", { ifNoneMatch: "*" });
    const file = path.join(root, "index.json");
    const before = await stat(file, { bigint: true });
    const handle = await open(file, "r+");
    try {
      await handle.write("BBBB", 0);
    } finally {
      await handle.close();
    }
    // utimes takes seconds as a double, which cannot hold every ns; touch sets them exactly (utimensat).
    const ns = before.mtimeNs;
    await run("touch", ["-m", "-d", `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, "0")}`, file]);
    const after = await stat(file, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    expect((await rejection(storage.write("index.json", "CCCC", { ifMatch: written.version }))).code).toBe("CONFLICT");
    expect((await storage.read("index.json")).toString()).toBe("BBBB");
  });

  it("a racy token still matches the same file: stat and read agree, and ifMatch goes through after hashing it", async () => {
    const first = await storage.write("doc.txt", "one", { ifNoneMatch: "*" });
    expect(first.version.split(":")).toHaveLength(4);
    // Stamped ahead, the file stays racy however slow the machine is between the calls below.
    await setMtime(path.join(root, "doc.txt"), recent());
    const { version } = await storage.readVersioned("doc.txt");
    expect(version.split(":")).toHaveLength(4);
    expect((await storage.stat("doc.txt"))?.version).toBe(version);
    expect([...(await collect(storage.list("")))].map((info) => info.version)).toEqual([version]);
    createHash.mockClear();
    await storage.write("doc.txt", "two", { ifMatch: version });
    // One hash for the bytes written, one for the current file under the lock.
    expect(createHash).toHaveBeenCalledTimes(2);
    expect((await storage.read("doc.txt")).toString()).toBe("two");
  });

  it("a file changed long ago gets the plain token, and neither reading it nor replacing it hashes it", async () => {
    await storage.write("doc.txt", "one");
    await setMtime(path.join(root, "doc.txt"), settled());
    createHash.mockClear();
    const { version } = await storage.readVersioned("doc.txt");
    expect(version.split(":")).toHaveLength(3);
    expect((await storage.stat("doc.txt"))?.version).toBe(version);
    expect([...(await collect(storage.list("")))].map((info) => info.version)).toEqual([version]);
    expect(createHash).not.toHaveBeenCalled();
    await storage.write("doc.txt", "two", { ifMatch: version });
    // Only the bytes written were hashed (the new file is racy), never the file being replaced.
    expect(createHash).toHaveBeenCalledTimes(1);
  });

  it("a streamed write's token carries the digest of the bytes that passed", async () => {
    async function* chunks() {
      yield Buffer.from("str");
      yield Buffer.from("eamed");
    }
    const written = await storage.write("s.bin", chunks());
    expect(written.version.endsWith(`:${crypto.createHash("sha256").update("streamed").digest("hex")}`)).toBe(true);
  });

  it("a token taken while racy and one taken after it settled differ (one re-read), then agree", async () => {
    await storage.write("doc.txt", "one");
    const racy = (await storage.readVersioned("doc.txt")).version;
    const file = path.join(root, "doc.txt");
    await setMtime(file, settled());
    const plain = (await storage.stat("doc.txt"))?.version;
    expect(plain).not.toBe(racy);
    expect((await storage.readVersioned("doc.txt")).version).toBe(plain);
    // A token with a digest whose stat part no longer matches is simply stale.
    expect((await rejection(storage.write("doc.txt", "x", { ifMatch: racy }))).code).toBe("CONFLICT");
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
