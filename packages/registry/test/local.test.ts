import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LabbookError, MemoryStorage, Project, type Storage } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REGISTRY_FILE, Registry } from "../src/index.js";
import { CountingStorage, localOpener, steppingClock } from "./helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "labbook-registry-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function localProject(folder: string, names: string[]): Promise<Project> {
  const project = await Project.open("project.json", { storage: new LocalStorage(path.join(dir, folder)), mode: "w", author: "ada", clock: steppingClock() });
  for (const name of names) await project.log(name, (e) => e.logMetric("n", name.length));
  await project.save();
  return project;
}

describe("local projects in different folders", () => {
  it("records the upstream's absolute path and resolves it, reading it once", async () => {
    const features = await localProject("features", ["feature build"]);
    const runs = await Project.open("project.json", {
      storage: new LocalStorage(path.join(dir, "runs")),
      mode: "w",
      author: "ada",
      clock: steppingClock("2024-02-01T00:00:00Z"),
    });
    await runs.log("train", (e) => void e.addDependency(features.get("feature-build")));
    await runs.log("tune", (e) => void e.addDependency(features.get("feature-build")));
    await runs.save();
    const onDisk = JSON.parse(await readFile(path.join(dir, "runs/project.json"), "utf8"));
    expect(onDisk[0].dependencies).toEqual([`${path.join(dir, "features/project.json")}|feature-build-20240101000000`]);

    const counted: CountingStorage[] = [];
    const registry = new Registry({ openProject: localOpener((s) => counted[counted.push(new CountingStorage(s)) - 1] as Storage) });
    const reopened = await Project.open("project.json", { storage: new LocalStorage(path.join(dir, "runs")), mode: "r", registry });
    expect(counted).toHaveLength(0);
    const [a, b] = await Promise.all([reopened.get("train").resolveDependencies(), reopened.get("tune").resolveDependencies()]);
    expect(a.get("feature-build")?.metrics).toEqual({ n: 13 });
    expect(b.get("feature-build")).toBe(a.get("feature-build"));
    expect(counted).toHaveLength(1);
    expect(counted[0]?.readsOf("project.json")).toBe(1);
  });

  it("without an opener an absolute path is MISSING_DEPENDENCY, naming what to do", async () => {
    const features = await localProject("features", ["a"]);
    const runs = await Project.open("project.json", { storage: new LocalStorage(path.join(dir, "runs")), mode: "w", author: "ada" });
    await runs.log("train", (e) => void e.addDependency(features.get("a")));
    await runs.save();
    const reopened = await Project.open("project.json", { storage: new LocalStorage(path.join(dir, "runs")), mode: "r" });
    const error = await reopened
      .get("train")
      .resolveDependencies()
      .then(
        () => undefined,
        (e: unknown) => e as LabbookError,
      );
    expect(error?.code).toBe("MISSING_DEPENDENCY");
    expect(error?.message).toContain("registry");
  });
});

describe("mixed storages", () => {
  it("a memory project depends on a local one through a registry key", async () => {
    await localProject("features", ["feature build"]);
    const registry = new Registry({ openProject: localOpener(), baseDir: dir }).addProject("features", "features");
    const features = await registry.project("features");
    const memory = new MemoryStorage();
    const runs = await Project.open("project.json", { storage: memory, mode: "w", author: "ada", registry });
    await runs.log("train", (e) => void e.addDependency(features.get("feature-build")));
    await runs.save();
    expect(runs.get("train").dependencies).toEqual(["features|feature-build-20240101000000"]);

    const fresh = new Registry({ openProject: localOpener(), baseDir: dir }).addProject("features", "features");
    const reopened = await Project.open("project.json", { storage: memory, mode: "r", registry: fresh });
    const deps = await reopened.get("train").resolveDependencies();
    expect(deps.get("feature-build")?.owner?.path).toBe(path.join(dir, "features/project.json"));
  });
});

describe("registry file", () => {
  it("reads labbook.registry.json with locations relative to the file and storage options", async () => {
    await localProject("features", ["feature build"]);
    const file = path.join(dir, REGISTRY_FILE);
    await writeFile(
      file,
      JSON.stringify({
        projects: {
          features: "./features",
          remote: { location: "s3://team-bucket/features", storage: { region: "eu-west-1", endpoint: "http://127.0.0.1:9" } },
        },
        repositories: { models: "models" },
      }),
    );
    const registry = await Registry.fromFile(file, { openProject: localOpener() });
    expect(registry.projectNames).toEqual(["features", "remote"]);
    expect(registry.repositoryNames).toEqual(["models"]);
    expect(registry.toJSON()).toEqual({
      version: 1,
      projects: {
        features: path.join(dir, "features"),
        remote: { location: "s3://team-bucket/features", storage: { region: "eu-west-1", endpoint: "http://127.0.0.1:9" } },
      },
      repositories: { models: path.join(dir, "models") },
    });
    const features = await registry.project("features");
    expect(features.get("feature-build").metrics).toEqual({ n: 13 });
    expect(registry.keyFor(features)).toBe("features");
    const unknown = await registry.project("nope").catch((e: LabbookError) => e);
    expect(unknown).toMatchObject({ code: "NOT_FOUND" });
    expect((unknown as LabbookError).message).toContain("features, remote");
  });

  it("refuses credentials, naming the entry and the option", async () => {
    const file = path.join(dir, REGISTRY_FILE);
    await writeFile(
      file,
      JSON.stringify({ projects: { remote: { location: "s3://b/p", storage: { region: "x", secretAccessKey: "abc", session_token: "t" } } } }),
    );
    const error = await Registry.fromFile(file).catch((e: LabbookError) => e);
    expect(error).toBeInstanceOf(LabbookError);
    expect((error as LabbookError).code).toBe("INVALID_FORMAT");
    expect((error as LabbookError).message).toContain("projects.remote.storage.secretAccessKey");
    expect((error as LabbookError).message).toContain("projects.remote.storage.session_token");
    expect((error as LabbookError).message).toContain("credentials never go in them");
    expect(() => new Registry().addProject("p", "s3://b/p", { storage: { accessKeyId: "AKIA" } })).toThrow(/accessKeyId.*credential/);
  });

  it("rejects a malformed file with INVALID_FORMAT", async () => {
    const file = path.join(dir, REGISTRY_FILE);
    await writeFile(file, JSON.stringify({ projects: { a: 3 }, extra: true }));
    await expect(Registry.fromFile(file)).rejects.toMatchObject({ code: "INVALID_FORMAT" });
    await writeFile(file, "{ not json");
    await expect(Registry.fromFile(file)).rejects.toMatchObject({ code: "INVALID_FORMAT" });
  });
});
