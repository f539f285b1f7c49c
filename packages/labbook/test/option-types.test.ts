import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  dependencyGraph,
  type LocalStorageOptions,
  MemoryStorage,
  type OpenProjectOptions,
  openProject,
  openRepository,
  Project,
  type ProjectMode,
  Registry,
  renderTable,
  type S3LocationOptions,
} from "../src/index.js";

// This file is type-checked with exactOptionalPropertyTypes (the package typecheck includes test/):
// each call forwards optional settings that may be undefined, which only compiles while every
// public option type says `?: T | undefined`.
interface Settings {
  mode?: ProjectMode | undefined;
  author?: string | undefined;
  ascii?: boolean | undefined;
  cwd?: string | undefined;
  staleLockMs?: number | undefined;
  region?: string | undefined;
}

const unset: Settings = { mode: undefined, author: undefined, ascii: undefined, cwd: undefined, staleLockMs: undefined, region: undefined };

describe("public option types take undefined for optional fields", () => {
  it("forwards undefined settings through the umbrella and the packages behind it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "labbook-option-types-"));
    try {
      const options: OpenProjectOptions = { mode: unset.mode ?? "w", author: unset.author, storage: undefined, s3: undefined, clock: undefined };
      const project = await openProject(path.join(dir, "runs/project.json"), options);
      await project.log("train", (e) => e.logMetric("auc", 0.5));
      await project.save();
      expect(renderTable(project, { ascii: unset.ascii, columns: undefined, style: undefined })).toContain("train");
      const graph = await dependencyGraph(project, { registry: undefined, allowCycles: undefined });
      expect(graph.nodes.length).toBe(1);
      const registry = new Registry({ cwd: unset.cwd, baseDir: undefined, openProject: undefined });
      registry.addProject("runs", path.join(dir, "runs/project.json"), { storage: undefined });
      const repository = await openRepository(path.join(dir, "models/repository.json"), { mode: "w+", storage: undefined, s3: undefined });
      expect(repository.path).toContain("repository.json");
      const local: LocalStorageOptions = { staleLockMs: unset.staleLockMs, fsync: undefined };
      const s3: S3LocationOptions = {
        region: unset.region,
        endpoint: undefined,
        client: undefined,
        conditionalWrites: undefined,
      };
      expect([local.staleLockMs, s3.region]).toEqual([undefined, undefined]);
      const memory = await Project.open("p.json", { storage: new MemoryStorage(), mode: unset.mode, maxRetries: undefined, handlers: undefined });
      expect(memory.mode).toBe("a");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
