import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MemoryStorage, Project, type Storage } from "@labbook/core";
import { Repository } from "@labbook/repository";
import { LocalStorage } from "@labbook/storage-local";
import { afterAll, describe, expect, it } from "vitest";

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

/** A clock the test moves by hand. */
function manualClock(start: string) {
  let now = new Date(`${start}Z`);
  return {
    clock: () => now,
    set: (when: string) => {
      now = new Date(`${when}Z`);
    },
  };
}

const storages: Array<[string, () => Promise<Storage>]> = [
  ["memory", async () => new MemoryStorage()],
  [
    "local",
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "labbook-repo-"));
      temps.push(dir);
      return new LocalStorage(dir);
    },
  ],
];

describe.each(storages)("Repository on %s storage", (_kind, makeStorage) => {
  async function seeded() {
    const storage = await makeStorage();
    const time = manualClock("2024-01-01T00:00:00");
    const repo = await Repository.open("repo/repository.json", { storage, clock: time.clock });
    for (const [when, value] of [
      ["2024-01-01T00:00:00", "one\n"],
      ["2024-01-10T00:00:00", "two\n"],
      ["2024-01-20T00:00:00", "three\n"],
    ] as const) {
      time.set(when);
      repo.logArtifact("notes", value, { handler: "text" });
    }
    await repo.save();
    time.set("2024-02-01T00:00:00");
    return { storage, time, repo };
  }

  it("numbers versions from 0, writes nothing before save, and records size and sha256", async () => {
    const storage = await makeStorage();
    const repo = await Repository.open("repo/repository.json", { storage, clock: () => new Date("2024-01-01T00:00:00Z") });
    const entry = repo.logArtifact("cfg", { a: 1 }, { handler: "json" });
    expect(entry.version).toBe(0);
    expect(await storage.stat("repo/repository.json")).toBeUndefined();
    expect(await repo.loadArtifact("cfg")).toEqual({ a: 1 });
    await repo.save();
    const saved = repo.getArtifactMetadata("cfg");
    expect(saved.size).toBe(8);
    expect(saved.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(new TextDecoder().decode(await storage.read("repo/cfg/cfg-20240101000000.json"))).toBe('{"a": 1}');
    expect(repo.logArtifact("cfg", { a: 2 }, { handler: "json" }).version).toBe(1);
  });

  it("resolves latest, integers, exact dates and as-of dates, skipping expired versions", async () => {
    const { repo, storage, time } = await seeded();
    expect(await repo.loadArtifact("notes")).toBe("three\n");
    expect(await repo.loadArtifact("notes", { version: 1 })).toBe("two\n");
    expect((await repo.getArtifactMetadata("notes", { version: "2024-01-10T00:00:00" })).version).toBe(1);
    expect(repo.getArtifactMetadata("notes", { version: new Date("2024-01-10T00:00:00Z") }).version).toBe(1);
    expect(repo.getArtifactMetadata("notes", { version: "2024-01-15T00:00:00", match: "asof" }).version).toBe(1);
    expect(repo.getArtifactMetadata("notes", { version: "2024-01-20T00:00:00", match: "asof" }).version).toBe(2);
    repo.setArtifactExpiry("notes", { version: 2, expiry: "2024-01-25T00:00:00" });
    await repo.save();
    // Reload: the expiry is a date again, so latest and as-of keep working.
    const reopened = await Repository.open("repo/repository.json", { storage, mode: "r", clock: time.clock });
    expect(reopened.getArtifactMetadata("notes").version).toBe(1);
    expect(reopened.getArtifactMetadata("notes", { version: "2024-01-24T23:59:59", match: "asof" }).version).toBe(2);
    expect(reopened.getArtifactMetadata("notes", { version: "2024-01-25T00:00:00", match: "asof" }).version).toBe(1);
    expect(reopened.getArtifactMetadata("notes", { version: 2 }).expiry).toBe("2024-01-25T00:00:00");
  });

  it("reports each kind of miss with its own code", async () => {
    const { repo } = await seeded();
    const codes = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return "none";
    };
    expect(await codes(() => repo.getArtifactMetadata("notes", { version: 7 }))).toBe("VERSION_NOT_FOUND");
    expect(await codes(() => repo.getArtifactMetadata("notes", { version: "2024-01-02T00:00:00" }))).toBe("VERSION_NOT_FOUND");
    expect(await codes(() => repo.getArtifactMetadata("notes", { version: "2023-12-31T00:00:00", match: "asof" }))).toBe("VERSION_NOT_FOUND");
    expect(await codes(() => repo.getArtifactMetadata("notes", { version: "last tuesday" }))).toBe("INVALID_VERSION");
    expect(await codes(() => repo.getArtifactMetadata("nope"))).toBe("NOT_FOUND");
    expect(await codes(() => repo.getArtifactMetadata("notes", { version: "2024-01-10T00:00:00", match: "closest" as never }))).toBe("INVALID_ARGUMENT");
    expect(await codes(() => repo.getArtifactMetadata("notes", { version: 1, match: "asof" }))).toBe("INVALID_ARGUMENT");
    repo.setArtifactExpiry("notes", { version: 0 });
    repo.setArtifactExpiry("notes", { version: 1 });
    repo.setArtifactExpiry("notes", { version: 2 });
    expect(await codes(() => repo.getArtifactMetadata("notes"))).toBe("VERSION_NOT_FOUND");
  });

  it("is read-only in mode r and starts empty in mode w", async () => {
    const { storage } = await seeded();
    const ro = await Repository.open("repo/repository.json", { storage, mode: "r" });
    expect(() => ro.logArtifact("x", "y", { handler: "text" })).toThrow(expect.objectContaining({ code: "READ_ONLY" }));
    expect(() => ro.setArtifactExpiry("notes")).toThrow(expect.objectContaining({ code: "READ_ONLY" }));
    await expect(ro.save()).rejects.toMatchObject({ code: "READ_ONLY" });
    await expect(ro.createRelease("v1")).rejects.toMatchObject({ code: "READ_ONLY" });
    const fresh = await Repository.open("repo/repository.json", { storage, mode: "w", clock: () => new Date("2024-01-01T00:00:00Z") });
    expect(fresh.entries).toHaveLength(0);
    expect(fresh.logArtifact("notes", "again\n", { handler: "text" }).version).toBe(0);
    await fresh.save();
    // The old version 0 file is never replaced: the new one gets a free variant of the name.
    expect(fresh.getArtifactMetadata("notes").fname).toBe("notes-20240101000000-1.txt");
    expect(new TextDecoder().decode(await storage.read("repo/notes/notes-20240101000000.txt"))).toBe("one\n");
  });

  it("diffs text versions and refuses binary ones", async () => {
    const { repo } = await seeded();
    const diff = await repo.versionDiff("notes", 0);
    expect(diff).toContain("-one");
    expect(diff).toContain("+three");
    expect(await repo.versionDiff("notes", 2, 0)).toContain("-one");
    repo.logArtifact("raw", new Uint8Array([0, 1, 2]), { handler: "bytes" });
    repo.logArtifact("raw", new Uint8Array([3]), { handler: "bytes" });
    await repo.save();
    await expect(repo.versionDiff("raw", 0, 1)).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });

  it("filters to a read-only view with one version per name", async () => {
    const { repo, time } = await seeded();
    time.set("2024-01-05T00:00:00");
    repo.logArtifact("cfg", { a: 1 }, { handler: "json" });
    await repo.save();
    const asOf = repo.filter("2024-01-03T00:00:00");
    expect(asOf.entries.map((e) => [e.name, e.version])).toEqual([["notes", 0]]);
    expect(asOf.mode).toBe("r");
    const pinned = repo.filter([
      ["notes", 1],
      ["cfg", 0],
    ]);
    expect(await pinned.loadArtifact("notes")).toBe("two\n");
    expect(() => pinned.logArtifact("x", "y", { handler: "text" })).toThrow(expect.objectContaining({ code: "READ_ONLY" }));
  });

  it("creates, finds and materialises releases", async () => {
    const { repo, storage, time } = await seeded();
    const v1 = await repo.createRelease("v1");
    expect(v1.artifacts).toEqual([["notes", 2]]);
    time.set("2024-03-01T00:00:00");
    repo.logArtifact("notes", "four\n", { handler: "text" });
    repo.logArtifact("cfg", { b: 2 }, { handler: "json" });
    await repo.save();
    await repo.createRelease("v2");
    await expect(repo.createRelease("v2")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((await repo.findRelease()).tag).toBe("v2");
    expect((await repo.findRelease(new Date("2024-02-15T00:00:00Z"), { match: "asof" })).tag).toBe("v1");
    await expect(repo.findRelease("v1", { match: "asof" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const text = new TextDecoder().decode(await storage.read("repo/releases.json"));
    expect(text.startsWith('[\n    {\n        "tag": "v1",\n        "artifacts": [\n            [\n                "notes",\n                2\n')).toBe(true);
    const other = new MemoryStorage();
    const minimal = await repo.materializeRelease("v1", { location: "min/repository.json", storage: other });
    expect(minimal.entries.map((e) => [e.name, e.version])).toEqual([["notes", 2]]);
    expect(await minimal.loadArtifact("notes")).toBe("three\n");
    const keys = [];
    for await (const o of other.list("")) keys.push(o.key);
    expect(keys).toEqual(["min/notes/notes-20240120000000.txt", "min/repository.json"]);
  });

  it("stores identical bytes once (content addressing)", async () => {
    const { repo, storage } = await seeded();
    repo.logArtifact("notes", "two\n", { handler: "text" });
    await repo.save();
    const entry = repo.getArtifactMetadata("notes", { version: 3 });
    expect(entry.fname).toBe("notes-20240110000000.txt");
    expect(await repo.loadArtifact("notes", { version: 3 })).toBe("two\n");
    const keys = [];
    for await (const o of storage.list("repo/notes/")) keys.push(o.key);
    expect(keys).toHaveLength(3);
  });

  it("two writers logging one name end with unique, dense versions", async () => {
    const { storage } = await seeded();
    const clock = () => new Date("2024-02-01T00:00:00Z");
    const a = await Repository.open("repo/repository.json", { storage, clock });
    const b = await Repository.open("repo/repository.json", { storage, clock });
    a.logArtifact("notes", "from a\n", { handler: "text" });
    b.logArtifact("notes", "from b\n", { handler: "text" });
    b.logArtifact("notes", "from b again\n", { handler: "text" });
    await Promise.all([a.save(), b.save()]);
    const merged = await Repository.open("repo/repository.json", { storage, mode: "r", clock });
    const versions = merged.versions("notes").map((e) => e.version);
    expect([...versions].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const values = await Promise.all([3, 4, 5].map((v) => merged.loadArtifact<string>("notes", { version: v })));
    expect(values.sort()).toEqual(["from a\n", "from b\n", "from b again\n"]);
  });

  it("promotes an experiment's artifact by streaming it across storages, refusing older ones", async () => {
    const { repo, time } = await seeded();
    const projectStorage = new MemoryStorage();
    const project = await Project.open("project.json", { storage: projectStorage, author: "ada", clock: () => new Date("2024-01-15T00:00:00Z") });
    const old = await project.log("old run", (exp) => exp.logArtifact("notes", "old\n", { handler: "text" }));
    const projectLater = await Project.open("project.json", { storage: projectStorage, author: "ada", clock: () => new Date("2024-02-02T00:00:00Z") });
    await project.save();
    const fresh = await projectLater.log("new run", (exp) => exp.logArtifact("notes", "promoted\n", { handler: "text" }));
    await projectLater.save();
    await expect(repo.promote(old, "notes")).rejects.toMatchObject({ code: "ARTIFACT_LOG" });
    await expect(repo.promote(fresh, "missing")).rejects.toMatchObject({ code: "ARTIFACT_LOAD" });
    time.set("2024-02-03T00:00:00");
    const entry = await repo.promote(fresh, "notes");
    expect(entry.version).toBe(3);
    const reopened = await Repository.open("repo/repository.json", { storage: repo.storage, mode: "r", clock: time.clock });
    expect(await reopened.loadArtifact("notes")).toBe("promoted\n");
    expect(reopened.getArtifactMetadata("notes").created_at).toBe("2024-02-02T00:00:00");
  });

  it("a failed save removes the copied file and leaves the index as it was", async () => {
    const { storage } = await seeded();
    const before = new TextDecoder().decode(await storage.read("repo/repository.json"));
    const project = await Project.open("project.json", { storage: new MemoryStorage(), author: "ada", clock: () => new Date("2024-03-01T00:00:00Z") });
    const exp = await project.log("run", (e) => e.logArtifact("notes", "promoted\n", { handler: "text" }));
    await project.save();
    // The same storage, except that writing the index fails.
    const failing: Storage = {
      kind: storage.kind,
      capabilities: storage.capabilities,
      describe: (key) => storage.describe(key),
      read: (key) => storage.read(key),
      readVersioned: (key) => storage.readVersioned(key),
      readStream: (key) => storage.readStream(key),
      write: (key, data, options) => (key.endsWith("repository.json") ? Promise.reject(new Error("disk full")) : storage.write(key, data, options)),
      stat: (key) => storage.stat(key),
      list: (prefix) => storage.list(prefix),
      delete: (key) => storage.delete(key),
      copy: (from, to) => storage.copy(from, to),
    };
    const broken = await Repository.open("repo/repository.json", { storage: failing });
    await expect(broken.promote(exp, "notes")).rejects.toMatchObject({ code: "SAVE_FAILED" });
    expect(new TextDecoder().decode(await storage.read("repo/repository.json"))).toBe(before);
    expect(await storage.stat("repo/notes/notes-20240301000000.txt")).toBeUndefined();
    expect(broken.versions("notes")).toHaveLength(3);
  });
});
