import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_INDEX_BYTES, type LabbookError, MemoryStorage, type ObjectInfo, Project, parsePyJson } from "../src/index.js";
import { validateFile } from "../src/internal.js";
import { repositoryFileSchema } from "../src/schemas-entry.js";

const clock = () => new Date("2024-05-01T10:00:00Z");
const decoder = new TextDecoder();

/** A valid lazyscribe experiment record, to be spoiled by each test. */
function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    artifacts: [],
    author: "ada",
    created_at: "2024-05-01T10:00:00",
    dependencies: [],
    last_updated: "2024-05-01T10:00:00",
    last_updated_by: "ada",
    metrics: { auc: 0.5 },
    name: "base",
    parameters: {},
    short_slug: "base",
    slug: "base-20240501100000",
    tags: [],
    tests: [],
    ...overrides,
  };
}

async function storageWith(text: string, key = "project.json"): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  await storage.write(key, text);
  return storage;
}

async function openError(storage: MemoryStorage, mode: "r" | "a" | "w+" = "a"): Promise<LabbookError> {
  const error = await Project.open("project.json", { storage, mode, clock }).then(
    () => undefined,
    (e: unknown) => e as LabbookError,
  );
  if (!error) throw new Error("Project.open should have failed");
  return error;
}

async function text(storage: MemoryStorage, key = "project.json"): Promise<string> {
  return decoder.decode(await storage.read(key));
}

describe("bad project.json: a clear INVALID_FORMAT, the file left untouched", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["truncated", JSON.stringify([record()], null, 4).slice(0, 120), /line \d+, column \d+/],
    ["not JSON at all", "<html>oops</html>", /not valid JSON/],
    ["empty", "", /not valid JSON/],
    ["an object instead of a list", JSON.stringify({ experiments: [] }), /\(top level\)/],
    ["a metric that is a string", JSON.stringify([record({ metrics: { auc: "0.9" } })]), /\[0\]\.metrics\.auc/],
    ["tags that are not a list", JSON.stringify([record({ tags: "a,b" })]), /\[0\]\.tags/],
    // lazyscribe defaults most fields; these it needs (its loader fails without them).
    ["a missing name", JSON.stringify([record({ name: undefined })]), /\[0\]\.name/],
    ["a missing created_at", JSON.stringify([record({ created_at: undefined })]), /\[0\]\.created_at/],
    [
      "an artifact without a handler",
      JSON.stringify([record({ artifacts: [{ created_at: "x", expiry: null, fname: "a.json", name: "a", version: 0 }] })]),
      /\[0\]\.artifacts\[0\]\.handler/,
    ],
    ["a second experiment that is null", JSON.stringify([record(), null]), /\[1\]/],
  ];
  for (const [what, bad, detail] of cases) {
    it(`${what}`, async () => {
      const storage = await storageWith(bad);
      for (const mode of ["r", "a", "w+"] as const) {
        const error = await openError(storage, mode);
        expect(error.code).toBe("INVALID_FORMAT");
        expect(error.path).toBe("memory://project.json");
        expect(error.message).toContain("project.json");
        expect(error.message).toMatch(detail);
      }
      expect(await text(storage)).toBe(bad);
    });
  }

  it("names the first bad field when there are several", async () => {
    const storage = await storageWith(JSON.stringify([record(), record({ name: 5, tags: 3 })]));
    const error = await openError(storage);
    expect(error.message).toMatch(/\[1\]\.name/);
  });
});

describe("bad repository.json", () => {
  it("truncated: INVALID_FORMAT naming the file", () => {
    expect(() => parsePyJson('[{"name": "model", "vers', "repo/repository.json")).toThrow(/repo\/repository\.json is not valid JSON/);
  });

  it("a wrong field type: INVALID_FORMAT naming the file and the field", () => {
    const data = parsePyJson(JSON.stringify([{ created_at: "2024-01-01T00:00:00", expiry: null, fname: "m.json", handler: "json", name: "m", version: "1" }]));
    expect(() => validateFile(repositoryFileSchema, data, "repo/repository.json")).toThrow(/repo\/repository\.json has an invalid field at \[0\]\.version/);
  });
});

describe("what the file holds beyond labbook's own fields", () => {
  it("unknown fields of experiments, tests and artifacts are kept on rewrite", async () => {
    const stored = [
      record({
        future_field: { nested: [1, 2.5] },
        artifacts: [{ created_at: "2024-05-01T10:00:00", expiry: null, fname: "a.json", handler: "json", name: "a", version: 0, python_only: "yes" }],
        tests: [{ artifacts: [], description: null, metrics: {}, name: "t", parameters: {}, population_size: 12 }],
      }),
    ];
    // Python spells float 2.0 with its ".0"; JSON.stringify cannot, so put it in by hand.
    const storage = await storageWith(JSON.stringify(stored).replace("2.5", "2.0"));
    const project = await Project.open("project.json", { storage, clock, author: "bo" });
    await project.log("second", (e) => e.logMetric("x", 1));
    await project.save();
    const [first] = parsePyJson(await text(storage)) as Array<{
      future_field: unknown;
      artifacts: Array<Record<string, unknown>>;
      tests: Array<Record<string, unknown>>;
    }>;
    expect(first?.future_field).toEqual({ nested: [1, 2] });
    expect(await text(storage)).toContain('"nested": [\n                1,\n                2.0\n            ]');
    expect(first?.artifacts[0]?.python_only).toBe("yes");
    expect(first?.tests[0]?.population_size).toBe(12);
  });

  it("duplicate slugs in the file are both kept, and a save keeps both", async () => {
    const storage = await storageWith(JSON.stringify([record({ metrics: { auc: 1 } }), record({ metrics: { auc: 2 } })]));
    const project = await Project.open("project.json", { storage, clock, author: "bo" });
    expect(project.size).toBe(2);
    expect(project.get("base-20240501100000").slug).toBe("base-20240501100000");
    await project.log("third", () => {});
    await project.save();
    const stored = parsePyJson(await text(storage)) as Array<{ slug: string; metrics: { auc?: number } }>;
    expect(stored.filter((r) => r.slug === "base-20240501100000").map((r) => r.metrics.auc)).toEqual([1, 2]);
  });

  it("dates Python reads are respelled as lazyscribe writes them; others are kept as written, and reading one as a Date is a typed error", async () => {
    const odd = [
      record({ created_at: "2024-05-01 10:00:00", last_updated: "2024-05-01T10:00:00+00:00", slug: "a", name: "a" }),
      record({ created_at: "2024-05-01T10:00:00.123456", last_updated: "2024-05-01T10:00:00.123456", slug: "b", name: "b" }),
      record({ created_at: "01/05/2024", last_updated: "yesterday", slug: "c", name: "c" }),
    ];
    const storage = await storageWith(JSON.stringify(odd));
    const project = await Project.open("project.json", { storage, clock, author: "bo" });
    // lazyscribe writes isoformat(timespec="seconds"): fractions go, a space becomes "T", an offset stays.
    expect(project.get("b").createdAt.toISOString()).toBe("2024-05-01T10:00:00.000Z");
    expect(project.get("a").createdAt.toISOString()).toBe("2024-05-01T10:00:00.000Z");
    expect(project.get("a").lastUpdated.toISOString()).toBe("2024-05-01T10:00:00.000Z");
    expect(() => project.get("c").createdAt).toThrow(expect.objectContaining({ name: "LabbookError" }));
    expect(() => project.get("c").lastUpdated).toThrow(/yesterday/);
    await project.log("new", () => {});
    await project.save();
    const stored = parsePyJson(await text(storage)) as Array<{ slug: string; created_at: string; last_updated: string }>;
    const bySlug = new Map(stored.map((r) => [r.slug, r]));
    expect(bySlug.get("a")?.created_at).toBe("2024-05-01T10:00:00");
    expect(bySlug.get("b")?.created_at).toBe("2024-05-01T10:00:00");
    expect(bySlug.get("c")?.created_at).toBe("01/05/2024");
    expect(bySlug.get("a")?.last_updated).toBe("2024-05-01T10:00:00+00:00");
    expect(bySlug.get("c")?.last_updated).toBe("yesterday");
    expect(stored).toHaveLength(4);
  });
});

describe("hostile names", () => {
  it("experiment names with .., / and NUL stay inside the project folder", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("p/project.json", { storage, clock, author: "bo" });
    for (const name of ["../../etc/passwd", "a/b/c", "nul\0byte", "/abs/name", ".."]) {
      await project.log(name, (e) => e.logArtifact("data", { name }, { handler: "json" }));
    }
    await project.save();
    const keys: string[] = [];
    for await (const info of storage.list("")) keys.push(info.key);
    for (const key of keys) {
      expect(key.startsWith("p/")).toBe(true);
      expect(key.split("/")).not.toContain("..");
      expect(key).not.toContain("\0");
    }
    const reopened = await Project.open("p/project.json", { storage, mode: "r" });
    expect(reopened.experiments.map((e) => e.name)).toEqual(["../../etc/passwd", "a/b/c", "nul\0byte", "/abs/name", ".."]);
    for (const e of reopened) expect(await e.loadArtifact("data")).toEqual({ name: e.name });
  });

  it("a name made only of punctuation still gets a usable slug or a clear error", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, clock, author: "bo" });
    const e = await project.log("../..", () => {});
    expect(e.slug.length).toBeGreaterThan(0);
    expect(e.slug).not.toContain("/");
  });

  const unsafeFnames = ["../escape.json", "a/../../escape.json", "/etc/passwd", "C:/windows/x.json", "nul\0.json", "back\\slash.json"];
  for (const fname of unsafeFnames) {
    it(`an artifact fname ${JSON.stringify(fname)} is refused with UNSAFE_PATH and nothing is written`, async () => {
      const storage = new MemoryStorage();
      const project = await Project.open("project.json", { storage, clock, author: "bo" });
      await expect(project.log("x", (e) => e.logArtifact("a", 1, { handler: "json", fname }))).rejects.toMatchObject({ code: "UNSAFE_PATH" });
      expect(project.size).toBe(0);
      const keys: string[] = [];
      for await (const info of storage.list("")) keys.push(info.key);
      expect(keys).toEqual([]);
    });
  }

  it("an absolute or escaping fname in a stored file is kept, and loading it fails on UNSAFE_PATH (nothing outside is read)", async () => {
    const artifacts = [
      { created_at: "2024-05-01T10:00:00", expiry: null, fname: "/etc/passwd", handler: "text", name: "abs", version: 0 },
      { created_at: "2024-05-01T10:00:00", expiry: null, fname: "../../secret.json", handler: "json", name: "up", version: 0 },
    ];
    const storage = await storageWith(JSON.stringify([record({ artifacts })]));
    await storage.write("secret.json", "{}");
    const project = await Project.open("project.json", { storage, clock, author: "bo" });
    const e = project.get("base");
    // UNSAFE_PATH itself, as writes report it (see unsafe-load.test.ts).
    for (const name of ["abs", "up"]) {
      await expect(e.loadArtifact(name)).rejects.toMatchObject({ code: "UNSAFE_PATH" });
    }
    await project.log("next", () => {});
    await project.save();
    expect(await text(storage)).toContain('"fname": "/etc/passwd"');
  });

  it("a very long experiment name is stored whole (the storage decides whether the folder name fits)", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, clock, author: "bo" });
    const name = "n".repeat(10_000);
    await project.log(name, (e) => e.logMetric("x", 1));
    await project.save();
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(reopened.experiments[0]?.name).toBe(name);
  });
});

describe("numbers", () => {
  it("NaN, Infinity and -Infinity survive a save and a load, spelled as Python does", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, clock, author: "bo" });
    await project.log("odd numbers", (e) => {
      e.logMetric("nan", Number.NaN);
      e.logMetric("inf", Number.POSITIVE_INFINITY);
      e.logMetric("ninf", Number.NEGATIVE_INFINITY);
      e.logParameter("list", [Number.NaN, 1, Number.POSITIVE_INFINITY]);
    });
    await project.save();
    const stored = await text(storage);
    expect(stored).toContain('"nan": NaN');
    expect(stored).toContain('"inf": Infinity');
    expect(stored).toContain('"ninf": -Infinity');
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    const m = reopened.get("odd-numbers").metrics;
    expect(m.nan).toBeNaN();
    expect(m.inf).toBe(Number.POSITIVE_INFINITY);
    expect(m.ninf).toBe(Number.NEGATIVE_INFINITY);
    expect(reopened.serialize()).toBe(stored);
  });

  it("a metric that is not a number is refused when logged", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, clock, author: "bo" });
    await expect(project.log("x", (e) => e.logMetric("auc", "0.9" as unknown as number))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(project.log("x", (e) => e.logMetric("auc", 10n as unknown as number))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(project.size).toBe(0);
  });
});

describe("oversized input fails cleanly, without reading or allocating it", () => {
  /** A storage that reports a 2 GB project file and refuses to read it: open must stop at the size. */
  class HugeIndex extends MemoryStorage {
    reads = 0;
    override async stat(key: string): Promise<ObjectInfo | undefined> {
      if (key === "project.json") return { key, size: 2 * 1024 ** 3, version: "huge" };
      return super.stat(key);
    }
    override async readVersioned(key: string): Promise<{ data: Uint8Array; version: string }> {
      this.reads++;
      return super.readVersioned(key);
    }
  }

  it("a 2 GB project file is INVALID_FORMAT before a byte is read", async () => {
    const storage = new HugeIndex();
    await storage.write("project.json", "[]");
    const error = await openError(storage);
    expect(error.code).toBe("INVALID_FORMAT");
    expect(error.message).toMatch(/2147483648 bytes, over the 268435456-byte limit/);
    expect(storage.reads).toBe(0);
    expect(DEFAULT_MAX_INDEX_BYTES).toBe(268435456);
  });

  it("an experiment whose metric or parameter would make the file too large is refused with nothing written", async () => {
    const storage = new MemoryStorage();
    const options = { storage, clock, author: "bo", maxIndexBytes: 64 * 1024 };
    const first = await Project.open("project.json", options);
    await first.log("small", (e) => e.logMetric("x", 1));
    await first.save();
    const before = await text(storage);
    const project = await Project.open("project.json", options);
    // Stands in for a 2 GB string (which V8 cannot even hold): the same limit, scaled down.
    await project.log("huge", (e) => {
      e.logParameter("blob", "x".repeat(100 * 1024));
      e.logArtifact("also", { a: 1 }, { handler: "json" });
    });
    await expect(project.save()).rejects.toMatchObject({ code: "SAVE_FAILED", message: expect.stringMatching(/over the 65536-byte limit/) });
    expect(await text(storage)).toBe(before);
    const keys: string[] = [];
    for await (const info of storage.list("")) keys.push(info.key);
    expect(keys).toEqual(["project.json"]);
  });

  it("many experiments that together pass the limit fail the save with the stored file unchanged", async () => {
    const storage = new MemoryStorage();
    const options = { storage, clock, author: "bo", maxIndexBytes: 16 * 1024 };
    const project = await Project.open("project.json", options);
    await project.log("first", () => {});
    await project.save();
    const before = await text(storage);
    for (let i = 0; i < 40; i++) await project.log(`run ${i}`, (e) => e.logParameter("pad", "p".repeat(300)));
    await expect(project.save()).rejects.toMatchObject({ code: "SAVE_FAILED" });
    expect(await text(storage)).toBe(before);
  });
});
