import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type LabbookError, Project } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let parent: string;
let root: string;
let storage: LocalStorage;

beforeEach(async () => {
  parent = await mkdtemp(path.join(tmpdir(), "labbook-local-test-"));
  root = path.join(parent, "root");
  storage = new LocalStorage(root);
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

/** Every file under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const clock = (() => {
  let t = Date.parse("2024-01-02T03:04:05Z");
  return () => new Date((t += 1000));
})();

describe("LocalStorage on disk", () => {
  it("writes atomically and leaves no temp or lock files behind", async () => {
    await storage.write("a/b.txt", "one");
    await storage.write("a/b.txt", "two");
    await storage.write("a/c.bin", new Uint8Array([1, 2, 3]));
    async function* chunks() {
      yield new TextEncoder().encode("x");
      yield new TextEncoder().encode("y");
    }
    await storage.write("a/d.txt", chunks());
    const { version } = await storage.readVersioned("a/b.txt");
    await storage.write("a/b.txt", "three", { ifMatch: version });
    await storage.write("a/e.txt", "e", { ifNoneMatch: "*" });
    expect(await tree(root)).toEqual(["a/b.txt", "a/c.bin", "a/d.txt", "a/e.txt"]);
    expect(await readFile(path.join(root, "a/b.txt"), "utf8")).toBe("three");
    expect(await readFile(path.join(root, "a/d.txt"), "utf8")).toBe("xy");
  });

  it("a failing stream leaves neither the file nor a temp file", async () => {
    async function* broken() {
      yield new Uint8Array([1]);
      throw new Error("source broke");
    }
    await expect(storage.write("s/x.bin", broken())).rejects.toThrow(/source broke/);
    expect(await tree(root)).toEqual([]);
  });

  it("create-only is CONFLICT when the file exists, and the file keeps its bytes", async () => {
    await storage.write("k.txt", "first", { ifNoneMatch: "*" });
    const error = await rejection(storage.write("k.txt", "second", { ifNoneMatch: "*" }));
    expect(error.code).toBe("CONFLICT");
    expect(await readFile(path.join(root, "k.txt"), "utf8")).toBe("first");
    expect(await tree(root)).toEqual(["k.txt"]);
  });

  it("ifMatch is CONFLICT when the file changed or is missing", async () => {
    await storage.write("k.txt", "v1");
    const { version } = await storage.readVersioned("k.txt");
    await storage.write("k.txt", "v2");
    expect((await rejection(storage.write("k.txt", "v3", { ifMatch: version }))).code).toBe("CONFLICT");
    expect(await readFile(path.join(root, "k.txt"), "utf8")).toBe("v2");
    expect((await rejection(storage.write("missing.txt", "x", { ifMatch: version }))).code).toBe("CONFLICT");
    expect(await tree(root)).toEqual(["k.txt"]);
  });

  it("lists by prefix in key order, skipping temp files", async () => {
    for (const key of ["p/b.txt", "p/a.txt", "p/sub/c.txt", "pq/d.txt", "q/e.txt"]) await storage.write(key, key);
    await writeFile(path.join(root, "p", ".a.txt.123.abc.lbtmp"), "partial");
    const keys = async (prefix: string) => {
      const out: string[] = [];
      for await (const info of storage.list(prefix)) out.push(info.key);
      return out;
    };
    expect(await keys("p/")).toEqual(["p/a.txt", "p/b.txt", "p/sub/c.txt"]);
    expect(await keys("p")).toEqual(["p/a.txt", "p/b.txt", "p/sub/c.txt", "pq/d.txt"]);
    expect(await keys("p/s")).toEqual(["p/sub/c.txt"]);
    expect(await keys("nothing/")).toEqual([]);
    expect(await keys("")).toHaveLength(5);
  });

  it("deletes files (a missing one is fine) and copies", async () => {
    await storage.write("a.txt", "A");
    await storage.copy("a.txt", "copies/a.txt");
    expect(await readFile(path.join(root, "copies/a.txt"), "utf8")).toBe("A");
    await storage.delete("a.txt");
    await storage.delete("a.txt");
    expect(await tree(root)).toEqual(["copies/a.txt"]);
    expect(await storage.stat("a.txt")).toBeUndefined();
    expect((await rejection(storage.copy("a.txt", "b.txt"))).code).toBe("NOT_FOUND");
  });

  it("a folder is not a file: reading it is NOT_FOUND, deleting it is STORAGE and keeps its files", async () => {
    await storage.write("dir/inner.txt", "x");
    expect((await rejection(storage.read("dir"))).code).toBe("NOT_FOUND");
    const error = await rejection(storage.delete("dir"));
    expect(error.code).toBe("STORAGE");
    expect(await tree(root)).toEqual(["dir/inner.txt"]);
  });

  it("NOT_FOUND for missing files, naming the path", async () => {
    // One at a time: a rejection made before it is awaited is an unhandled rejection.
    for (const attempt of [() => storage.read("nope.txt"), () => storage.readVersioned("nope.txt"), () => storage.readStream("nope.txt")]) {
      const error = await rejection(attempt());
      expect(error.code).toBe("NOT_FOUND");
      expect(error.path).toBe(path.join(root, "nope.txt"));
    }
  });

  it.each(["../outside.txt", "/etc/passwd", "a/../../x", "a\\b", "a\0b", ""])("refuses the unsafe key %j and writes nothing", async (key) => {
    const error = await rejection(storage.write(key, "x"));
    expect(error.code).toBe("UNSAFE_PATH");
    expect((await rejection(storage.read(key))).code).toBe("UNSAFE_PATH");
    expect(await readdir(parent)).toEqual([]);
  });
});

describe("a project on LocalStorage", () => {
  it("saves lazyscribe's layout, reopens lazily, and a failed save leaves project.json byte-identical", async () => {
    const project = await Project.open("project.json", { storage, author: "ada", clock });
    await project.log("Base Line", async (e) => {
      e.logMetric("auc", 0.5);
      e.logArtifact("features", { cols: ["a"] }, { handler: "json" });
      await e.logTest("Group A", {}, (t) => t.logArtifact("notes", "n", { handler: "text", fname: "notes.txt" }));
    });
    await project.save();
    const exp = project.get("base-line");
    expect(await tree(root)).toEqual([`${exp.slug}/${exp.artifacts[0]?.fname}`, `${exp.slug}/group-a/notes.txt`, "project.json"].sort());
    const before = await readFile(path.join(root, "project.json"), "utf8");
    expect(before.startsWith("[\n    {\n")).toBe(true);
    expect(before.endsWith("]")).toBe(true);

    const reopened = await Project.open("project.json", { storage, mode: "a", author: "bob", clock });
    expect(await reopened.get("base-line").loadArtifact("features")).toEqual({ cols: ["a"] });
    await reopened.log("bad", (e) => e.logParameter("n", 1n));
    expect((await rejection(reopened.save())).code).toBe("SAVE_FAILED");
    expect(await readFile(path.join(root, "project.json"), "utf8")).toBe(before);

    // A tampered artifact is caught on load.
    const file = path.join(root, exp.slug, "group-a/notes.txt");
    await writeFile(file, "N");
    const test = (await Project.open("project.json", { storage, mode: "r" })).get("base-line").tests[0];
    expect((await rejection(test?.loadArtifact("notes") ?? Promise.resolve())).code).toBe("ARTIFACT_LOAD");
    expect((await stat(file)).size).toBe(1);
  });
});
