/**
 * zod is off the read path (a valid project is checked by validate.ts's fast checks alone), yet an
 * invalid file gets zod's precise message in every mode, and writes still validate. Whether zod is
 * loaded at all is checked on the built command in packages/labbook/test/cli-startup.test.ts.
 */
import { describe, expect, it, vi } from "vitest";
import { isLabbookError, MemoryStorage, PROJECT_MODES, Project, type ProjectMode } from "../src/index.js";
import * as schemas from "../src/schemas-entry.js";

const encoder = new TextEncoder();
const clock = () => new Date("2024-05-01T10:00:00Z");

const valid = { name: "base", created_at: "2024-05-01T10:00:00", last_updated: "2024-05-01T10:00:00", metrics: { auc: 0.5 } };

async function storageWith(records: unknown[]): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  await storage.write("project.json", encoder.encode(JSON.stringify(records)));
  return storage;
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe("reading without zod, failing with its message", () => {
  const readingModes = PROJECT_MODES.filter((m): m is ProjectMode => m !== "w");

  it.each(readingModes)('mode "%s": a valid project opens and lists its experiments', async (mode) => {
    const project = await Project.open("project.json", { storage: await storageWith([valid, { ...valid, name: "other" }]), mode, author: "ada", clock });
    expect(project.experiments.map((e) => e.name)).toEqual(["base", "other"]);
  });

  it.each(readingModes)('mode "%s": an invalid field is INVALID_FORMAT naming the file, the field and the cause', async (mode) => {
    const storage = await storageWith([valid, { ...valid, metrics: { auc: "high" } }]);
    const error = await failure(async () => {
      const project = await Project.open("project.json", { storage, mode, author: "ada", clock });
      return project.experiments; // mode "a" holds records as text until they are read
    });
    expect(isLabbookError(error, "INVALID_FORMAT")).toBe(true);
    expect((error as Error).message).toMatch(/project\.json has an invalid field at \[1\]\.metrics\.auc: expected a number\. The file was not changed/);
    expect((error as { path?: string }).path).toMatch(/project\.json$/);
    expect((error as Error).cause).toBeDefined();
  });

  it('mode "w": appendRecord validates the record it is given', async () => {
    const project = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w", author: "ada", clock });
    const record = (await project.logDetached("x", () => {})) as unknown as Record<string, unknown>;
    expect(() => project.appendRecord({ ...record, tags: "not a list" })).toThrow(/appended to .*has an invalid field at \.tags/);
    expect(project.appendRecord(record).name).toBe("x");
  });

  it("the schemas subpath keeps every public schema", () => {
    const names = Object.keys(schemas).sort();
    expect(names).toEqual([
      "artifactEntrySchema",
      "experimentRecordSchema",
      "metricHistoryFileSchema",
      "projectFileSchema",
      "releaseRecordSchema",
      "releasesFileSchema",
      "repositoryFileSchema",
      "storedArtifactEntrySchema",
      "storedExperimentRecordSchema",
      "storedProjectFileSchema",
      "storedRepositoryFileSchema",
      "storedTestRecordSchema",
      "testRecordSchema",
    ]);
    expect(schemas.storedProjectFileSchema.safeParse([valid]).success).toBe(true);
  });
});

describe("a merged project of read-only ones appends without having loaded the schemas", () => {
  it("appendRecord takes a complete record", async () => {
    // A fresh module graph, in which only a read-only project was opened: zod's schemas are not loaded.
    vi.resetModules();
    const fresh = await import("../src/index.js");
    const storage = new fresh.MemoryStorage();
    await storage.write("project.json", encoder.encode(JSON.stringify([valid])));
    const project = await fresh.Project.open("project.json", { storage, mode: "r", author: "ada", clock });
    const merged = project.merge();
    const record = {
      ...valid,
      name: "b",
      created_at: "2024-05-01T11:00:00",
      last_updated: "2024-05-01T11:00:00",
      artifacts: [],
      author: "ada",
      dependencies: [],
      last_updated_by: "ada",
      parameters: {},
      short_slug: "b",
      slug: "b-20240501110000",
      tags: [],
      tests: [],
    };
    expect(() => merged.appendRecord({ ...record, name: "c", tags: "x" })).toThrow(/appended to .* is not a complete experiment record/);
    expect(merged.appendRecord(record).name).toBe("b");
  });
});
