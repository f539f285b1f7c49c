import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LocalStorage } from "@labbook/storage-local";
import { describeStorageConformance } from "@labbook-internal/testing";
import { expect, it } from "vitest";

/**
 * The same file state: equal tokens, or one taken while the file was racy (with a content digest) and
 * one taken after it settled (without), for the same inode, size and mtime.
 */
const sameVersion = (a: string, b: string): boolean => a === b || a.split(":").slice(0, 3).join(":") === b.split(":").slice(0, 3).join(":");

describeStorageConformance(
  "local",
  async () => {
    const parent = await mkdtemp(path.join(tmpdir(), "labbook-local-"));
    const storage = new LocalStorage(path.join(parent, "root"));
    return { storage, dispose: () => rm(parent, { recursive: true, force: true }) };
  },
  {
    capabilities: { conditionalWrites: true, locking: true, atomicWrites: true },
    sameVersion,
    extras: (storage) => {
      it("leaves nothing outside its root and no temp files behind", async () => {
        const local = storage() as LocalStorage;
        await local.write("a/b.txt", "b");
        await local.write("../escape.txt", "x").catch(() => {});
        expect(await readdir(path.dirname(local.root))).toEqual(["root"]);
        expect(await readdir(path.join(local.root, "a"))).toEqual(["b.txt"]);
      });
    },
  },
);

// Small writes take synchronous calls by default (syncWriteBytes); the same suite with it off covers
// the asynchronous path every write took before, and still takes for streams, fsynced and large writes.
describeStorageConformance(
  "local, asynchronous writes only (syncWriteBytes 0)",
  async () => {
    const parent = await mkdtemp(path.join(tmpdir(), "labbook-local-async-"));
    const storage = new LocalStorage(path.join(parent, "root"), { syncWriteBytes: 0 });
    return { storage, dispose: () => rm(parent, { recursive: true, force: true }) };
  },
  { capabilities: { conditionalWrites: true, locking: true, atomicWrites: true }, manyKeys: 200, bigObjectBytes: 8 * 1024 * 1024, sameVersion },
);
