import { describe, expect, it } from "vitest";
import { type ArtifactEntry, MemoryStorage, Project } from "../src/index.js";
import { readSlotBytes, readSlotStream } from "../src/internal.js";
import { caught, RecordingStorage } from "./helpers.js";

const UNSAFE = ["/etc/passwd", "../other-20240501100000/secret.json", "../../secret.json", "sub/../../secret.json", "C:/secret.json", "a\\..\\..\\secret.json"];

function entry(name: string, fname: string): Record<string, unknown> {
  return { created_at: "2024-05-01T10:00:00", expiry: null, fname, handler: "text", name, version: 0 };
}

/** A stored project whose one experiment (and its test) names files outside its folder, next to files worth stealing. */
async function hostile(): Promise<RecordingStorage> {
  const storage = new RecordingStorage();
  const artifacts = UNSAFE.map((fname, i) => entry(`a${i}`, fname));
  const record = {
    artifacts,
    author: "ada",
    created_at: "2024-05-01T10:00:00",
    dependencies: [],
    last_updated: "2024-05-01T10:00:00",
    last_updated_by: "ada",
    metrics: {},
    name: "base",
    parameters: {},
    short_slug: "base",
    slug: "base-20240501100000",
    tags: [],
    tests: [{ artifacts, description: null, metrics: {}, name: "holdout", parameters: {} }],
  };
  await storage.inner.write("project.json", JSON.stringify([record]));
  for (const key of ["secret.json", "other-20240501100000/secret.json", "etc/passwd"]) await storage.inner.write(key, "secret");
  return storage;
}

describe("loading an artifact whose stored fname leaves its folder", () => {
  it("fails with UNSAFE_PATH itself (not wrapped in ARTIFACT_LOAD) and reads nothing", async () => {
    const storage = await hostile();
    const project = await Project.open("project.json", { storage, mode: "r" });
    const e = project.get("base");
    storage.reset();
    for (const [i, fname] of UNSAFE.entries()) {
      for (const attempt of [() => e.loadArtifact(`a${i}`), () => e.openArtifactStream(`a${i}`), () => e.tests[0]?.loadArtifact(`a${i}`)]) {
        const error = await caught(attempt);
        expect(error.code, fname).toBe("UNSAFE_PATH");
        expect(error.message).toContain(fname.replaceAll("\\", "\\\\"));
      }
    }
    expect(storage.reads).toEqual([]);
  });

  it("merging such an experiment is refused the same way, before anything is read", async () => {
    const storage = await hostile();
    const project = await Project.open("project.json", { storage, mode: "r" });
    const empty = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w" });
    storage.reset();
    const error = await caught(() => project.merge(empty));
    expect(error.code).toBe("UNSAFE_PATH");
    expect(storage.reads).toEqual([]);
  });

  it("readSlotBytes and readSlotStream pass the storage's UNSAFE_PATH through unchanged", async () => {
    const storage = new MemoryStorage();
    await storage.write("secret.json", "secret");
    const stored = entry("x", "../secret.json") as ArtifactEntry;
    for (const read of [() => readSlotBytes(storage, stored, "exp/../secret.json"), () => readSlotStream(storage, stored, "/secret.json")]) {
      const error = await caught(read);
      expect(error.code).toBe("UNSAFE_PATH");
    }
  });
});
