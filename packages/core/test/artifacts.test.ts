import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defaultHandlers } from "../src/artifacts/builtins.js";
import type { ArtifactHandler } from "../src/artifacts/handler.js";
import { Project } from "../src/project.js";
import { stringifyPyJson } from "../src/pyjson.js";
import { caught, RecordingStorage, tickingClock } from "./helpers.js";

const FILE = "project.json";
const encoder = new TextEncoder();

function open(storage: RecordingStorage, mode: "r" | "a" | "w+" = "a", handlers = defaultHandlers()) {
  return Project.open(FILE, { storage, mode, author: "ada", clock: tickingClock(), handlers });
}

/** A lazyscribe-written record holding the given artifact entries. */
function pythonRecord(artifacts: Record<string, unknown>[]): Record<string, unknown> {
  return {
    artifacts,
    author: "py",
    created_at: "2023-01-01T00:00:00",
    dependencies: [],
    last_updated: "2023-01-01T00:00:00",
    last_updated_by: "py",
    metrics: { auc: 1.0 },
    name: "from python",
    parameters: {},
    short_slug: "from-python",
    slug: "from-python-20230101000000",
    tags: [],
    tests: [],
  };
}

async function storedEntries(storage: RecordingStorage): Promise<Array<Record<string, unknown>>> {
  const records = JSON.parse((await storage.text(FILE)) as string) as Array<{ artifacts: Array<Record<string, unknown>> }>;
  return records.flatMap((r) => r.artifacts);
}

describe("loading is lazy", () => {
  it("opening a project reads only project.json; loadArtifact reads the one file it needs", async () => {
    const storage = new RecordingStorage();
    const project = await open(storage);
    await project.log("run", (e) => {
      e.logArtifact("a", { x: 1 }, { handler: "json" });
      e.logArtifact("b", "text b", { handler: "text" });
    });
    await project.save();
    storage.reset();
    const reopened = await open(storage, "r");
    expect(storage.reads).toEqual([FILE]);
    const exp = reopened.get("run");
    expect(await exp.loadArtifact("b")).toBe("text b");
    expect(storage.reads).toEqual([FILE, `${exp.slug}/${exp.artifacts[1]?.fname}`]);
  });
});

describe("size and sha256", () => {
  it("are recorded on save, and a changed file is ARTIFACT_LOAD", async () => {
    const storage = new RecordingStorage();
    const project = await open(storage);
    const exp = await project.log("run", (e) => e.logArtifact("notes", "hello world", { handler: "text", fname: "notes.txt" }));
    await project.save();
    const [entry] = await storedEntries(storage);
    const key = `${exp.slug}/notes.txt`;
    const bytes = await storage.inner.read(key);
    expect(entry?.size).toBe(bytes.byteLength);
    expect(entry?.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));

    // Same length, other bytes: caught by the digest.
    await storage.inner.write(key, "HELLO WORLD");
    const sameSize = await caught(async () => (await open(storage, "r")).get("run").loadArtifact("notes"));
    expect(sameSize.code).toBe("ARTIFACT_LOAD");
    expect(sameSize.message).toContain("sha256");
    expect(sameSize.path).toContain("notes.txt");

    // Other length: caught by the size.
    await storage.inner.write(key, "hello");
    const truncated = await caught(async () => (await open(storage, "r")).get("run").loadArtifact("notes"));
    expect(truncated.code).toBe("ARTIFACT_LOAD");
    expect(truncated.message).toMatch(/5 bytes.*11/);

    // The stream is checked at its end too.
    const stream = await (await open(storage, "r")).get("run").openArtifactStream("notes");
    const error = await caught(async () => {
      for await (const _ of stream) {
        // drain
      }
    });
    expect(error.code).toBe("ARTIFACT_LOAD");
  });

  it("entries without size/sha256 (written by Python) load unverified and are not rewritten", async () => {
    const storage = new RecordingStorage();
    const entry = { created_at: "2023-01-01T00:00:00", expiry: null, fname: "d.json", handler: "json", name: "d", version: 0 };
    await storage.inner.write(FILE, stringifyPyJson([pythonRecord([entry])], { indent: 4, sortKeys: true }));
    await storage.inner.write("from-python-20230101000000/d.json", '{"k": [1, 2]}');
    const project = await open(storage, "a");
    expect(await project.get("from-python").loadArtifact("d")).toEqual({ k: [1, 2] });
    storage.reset();
    await project.log("new", () => {});
    await project.save();
    expect(storage.writes).toEqual([FILE]);
    const [stored] = await storedEntries(storage);
    expect(stored).toEqual(entry);
  });
});

describe("entries labbook cannot read", () => {
  const pickle = {
    created_at: "2023-01-01T00:00:00",
    expiry: null,
    fname: "model-20230101000000.pkl",
    handler: "pickle",
    name: "model",
    python_version: "3.11.4",
    version: 0,
  };

  it("an unknown handler's entry survives a rewrite unchanged, and loading it is ARTIFACT_LOAD naming the handler", async () => {
    const storage = new RecordingStorage();
    await storage.inner.write(FILE, stringifyPyJson([pythonRecord([pickle])], { indent: 4, sortKeys: true }));
    await storage.inner.write(`from-python-20230101000000/${pickle.fname}`, new Uint8Array([0x80, 0x04, 0x95]));
    const project = await open(storage, "w+");
    const exp = project.get("from-python");
    exp.logMetric("auc", 0.5);
    exp.logArtifact("extra", "x", { handler: "text" });
    await project.save();
    expect(storage.writes).not.toContain(`from-python-20230101000000/${pickle.fname}`);
    const entries = await storedEntries(storage);
    expect(entries[0]).toEqual(pickle);
    const error = await caught(async () => (await open(storage, "r")).get("from-python").loadArtifact("model"));
    expect(error.code).toBe("ARTIFACT_LOAD");
    expect(error.message).toContain('"pickle"');
    // Its bytes are still there to stream.
    const chunks: Uint8Array[] = [];
    for await (const c of await (await open(storage, "r")).get("from-python").openArtifactStream("model")) chunks.push(c);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([0x80, 0x04, 0x95]));
  });

  it("loading a name that is not there is ARTIFACT_LOAD listing what there is", async () => {
    const storage = new RecordingStorage();
    const project = await open(storage);
    const exp = await project.log("run", (e) => e.logArtifact("a", 1, { handler: "json" }));
    const error = await caught(() => exp.loadArtifact("b"));
    expect(error.code).toBe("ARTIFACT_LOAD");
    expect(error.message).toContain("It has: a.");
  });
});

describe("save writes only what changed", () => {
  it("a clean artifact is never rewritten", async () => {
    const storage = new RecordingStorage();
    const project = await open(storage);
    const exp = await project.log("run", (e) => e.logArtifact("a", { x: 1 }, { handler: "json" }));
    await project.save();
    const artifactKey = `${exp.slug}/${exp.artifacts[0]?.fname}`;
    expect(storage.writes).toEqual([artifactKey, FILE]);

    storage.reset();
    await project.save();
    expect(storage.writes).toEqual([]);

    const again = await open(storage, "w+");
    again.get("run").logMetric("m", 1);
    again.get("run").tag("t");
    await again.save();
    expect(storage.writes).toEqual([FILE]);
    expect(await again.get("run").loadArtifact("a")).toEqual({ x: 1 });
  });
});

describe("failed saves leave project.json byte-identical", () => {
  async function saved(): Promise<{ storage: RecordingStorage; before: string }> {
    const storage = new RecordingStorage();
    const project = await open(storage);
    await project.log("first", (e) => e.logMetric("auc", 1));
    await project.save();
    return { storage, before: (await storage.text(FILE)) as string };
  }

  it.each([
    ["a BigInt", 10n],
    ["a function", () => 1],
    ["a symbol", Symbol("s")],
    ["a Map", new Map([["a", 1]])],
  ])("a parameter holding %s is SAVE_FAILED", async (_, value) => {
    const { storage, before } = await saved();
    const project = await open(storage);
    await project.log("second", (e) => {
      e.logArtifact("kept-back", "x", { handler: "text" });
      e.logParameter("bad", value);
    });
    storage.reset();
    const error = await caught(() => project.save());
    expect(error.code).toBe("SAVE_FAILED");
    expect(error.message).toContain("second");
    expect(storage.writes).toEqual([]);
    expect(await storage.text(FILE)).toBe(before);
  });

  it("a storage whose write throws gives SAVE_FAILED and the old index stays", async () => {
    const { storage, before } = await saved();
    storage.failWrite = (key) => key === FILE;
    const project = await open(storage);
    await project.log("second", () => {});
    const error = await caught(() => project.save());
    expect(error.code).toBe("SAVE_FAILED");
    expect(error.message).toContain("disk full");
    expect(error.cause).toBeInstanceOf(Error);
    expect(await storage.text(FILE)).toBe(before);
    // The experiment is still there to save once the disk is back.
    storage.failWrite = () => false;
    await project.save();
    expect(JSON.parse((await storage.text(FILE)) as string)).toHaveLength(2);
  });

  it("an artifact write that fails is SAVE_FAILED naming the artifact, before the index is touched", async () => {
    const { storage, before } = await saved();
    storage.failWrite = (key) => key !== FILE;
    const project = await open(storage);
    await project.log("second", (e) => e.logArtifact("big", "x", { handler: "text" }));
    const error = await caught(() => project.save());
    expect(error.code).toBe("SAVE_FAILED");
    expect(error.message).toContain('"big"');
    expect(await storage.text(FILE)).toBe(before);
  });

  it("a value its handler cannot serialise is SAVE_FAILED", async () => {
    const { storage, before } = await saved();
    const project = await open(storage);
    await project.log("second", (e) => e.logArtifact("t", 42, { handler: "text" }));
    const error = await caught(() => project.save());
    expect(error.code).toBe("SAVE_FAILED");
    expect(await storage.text(FILE)).toBe(before);
  });
});

describe("handlers round trip through save and reopen", () => {
  const upper: ArtifactHandler<string> = {
    alias: "shout",
    suffix: "shout",
    binary: false,
    write: (value) => value.toUpperCase(),
    read: async (source) => `${new TextDecoder().decode(await source.bytes()).toLowerCase()}!`,
    entryFields: (value) => ({ chars: value.length }),
  };

  async function* chunks(): AsyncIterable<Uint8Array> {
    yield encoder.encode("stream ");
    yield encoder.encode("of ");
    yield encoder.encode("chunks");
  }

  it("json, text, bytes (array and async iterable), yaml, csv and a registered handler", async () => {
    const storage = new RecordingStorage();
    const handlers = defaultHandlers().register(upper);
    const project = await open(storage, "a", handlers);
    const json = { a: [1, 2.5, null, true], b: { "n\u00e9sted": "\u{1F600}" }, c: Number.NaN };
    const yaml = { list: [1, "two", { three: 3 }], flag: false, nothing: null };
    const csv = [
      { id: 1, name: "ada", score: 0.5 },
      { id: 2, name: "bob, jr", score: 1 },
    ];
    await project.log("run", (e) => {
      e.logArtifact("json", json, { handler: "json" });
      e.logArtifact("text", "line 1\nline 2 \u00e9\u{1F600}", { handler: "text" });
      e.logArtifact("bytes", new Uint8Array([0, 255, 1, 254]), { handler: "bytes" });
      e.logArtifact("stream", chunks(), { handler: "bytes" });
      e.logArtifact("yaml", yaml, { handler: "yaml" });
      e.logArtifact("csv", csv, { handler: "csv" });
      e.logArtifact("custom", "quiet", { handler: "shout" });
    });
    await project.save();

    const entries = await storedEntries(storage);
    expect(entries.map((e) => [e.name, e.handler, String(e.fname).split(".").pop()])).toEqual([
      ["json", "json", "json"],
      ["text", "text", "txt"],
      ["bytes", "bytes", "bin"],
      ["stream", "bytes", "bin"],
      ["yaml", "yaml", "yaml"],
      ["csv", "csv", "csv"],
      ["custom", "shout", "shout"],
    ]);
    expect(entries.find((e) => e.name === "custom")?.chars).toBe(5);
    expect(entries.find((e) => e.name === "stream")?.size).toBe("stream of chunks".length);

    const exp = (await open(storage, "r", handlers)).get("run");
    const loadedJson = (await exp.loadArtifact("json")) as typeof json;
    expect(loadedJson.a).toEqual([1, 2.5, null, true]);
    expect(loadedJson.b).toEqual(json.b);
    expect(loadedJson.c).toBeNaN();
    expect(await exp.loadArtifact("text")).toBe("line 1\nline 2 \u00e9\u{1F600}");
    expect(Array.from((await exp.loadArtifact("bytes")) as Uint8Array)).toEqual([0, 255, 1, 254]);
    expect(new TextDecoder().decode((await exp.loadArtifact("stream")) as Uint8Array)).toBe("stream of chunks");
    expect(await exp.loadArtifact("yaml")).toEqual(yaml);
    expect(await exp.loadArtifact("csv")).toEqual([
      { id: "1", name: "ada", score: "0.5" },
      { id: "2", name: "bob, jr", score: "1" },
    ]);
    expect(await exp.loadArtifact("custom")).toBe("quiet!");
    const key = `${exp.slug}/${exp.artifacts.find((a) => a.name === "custom")?.fname}`;
    expect(await storage.text(key)).toBe("QUIET");

    // Without the custom handler registered, the entry is kept and loading names the handler.
    const plain = (await open(storage, "r")).get("run");
    expect((await caught(() => plain.loadArtifact("custom"))).message).toContain('"shout"');
  });

  it("an unsaved artifact loads from memory without touching storage", async () => {
    const storage = new RecordingStorage();
    const project = await open(storage);
    const exp = await project.log("run", (e) => e.logArtifact("a", { x: 1 }, { handler: "json" }));
    storage.reset();
    expect(await exp.loadArtifact("a")).toEqual({ x: 1 });
    expect(storage.reads).toEqual([]);
    expect((await caught(() => exp.openArtifactStream("a"))).code).toBe("ARTIFACT_LOAD");
  });
});
