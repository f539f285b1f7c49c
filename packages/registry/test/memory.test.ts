import { isLabbookError, LabbookError, MemoryStorage, Project } from "@labbook/core";
import { describe, expect, it } from "vitest";
import { DependencyCycleError, dependencyGraph, Registry } from "../src/index.js";
import { CountingStorage, steppingClock } from "./helpers.js";

async function seed(storage: MemoryStorage | CountingStorage, location: string, names: string[], clock = steppingClock()): Promise<Project> {
  const project = await Project.open(location, { storage, mode: "w", author: "ada", clock });
  for (const name of names) await project.log(name, (e) => e.logMetric("rows", name.length));
  await project.save();
  return project;
}

async function caught(promise: Promise<unknown>): Promise<LabbookError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LabbookError) return error;
    throw error;
  }
  throw new Error("expected a LabbookError");
}

describe("path references in one storage", () => {
  it("records a path relative to the downstream project and resolves it by short slug", async () => {
    const storage = new MemoryStorage();
    const features = await seed(storage, "features/project.json", ["feature build", "other"]);
    const runs = await Project.open("runs/project.json", { storage, mode: "w", author: "ada", clock: steppingClock("2024-02-01T00:00:00Z") });
    let stored = "";
    await runs.log("train", (e) => {
      stored = e.addDependency(features.get("feature-build"));
    });
    await runs.save();
    expect(stored).toBe("../features/project.json|feature-build-20240101000000");
    const text = new TextDecoder().decode(await storage.read("runs/project.json"));
    expect(JSON.parse(text)[0].dependencies).toEqual(["../features/project.json|feature-build-20240101000000"]);

    // No registry: paths inside the same storage still resolve.
    const reopened = await Project.open("runs/project.json", { storage, mode: "r" });
    const deps = await reopened.get("train").resolveDependencies();
    expect([...deps.keys()]).toEqual(["feature-build"]);
    expect(deps.get("feature-build")?.slug).toBe("feature-build-20240101000000");
    expect(deps.get("feature-build")?.metrics).toEqual({ rows: 13 });
  });

  it("a dependency inside the same project resolves to the project itself", async () => {
    const storage = new MemoryStorage();
    const project = await seed(storage, "project.json", ["prep"]);
    await project.log("fit", (e) => {
      e.addDependency(project.get("prep"));
    });
    await project.save();
    expect(project.get("fit").dependencies).toEqual(["project.json|prep-20240101000000"]);
    const again = await Project.open("project.json", { storage, mode: "r", registry: new Registry() });
    const deps = await again.get("fit").resolveDependencies();
    expect(deps.get("prep")).toBe(again.get("prep"));
  });
});

describe("registry keys", () => {
  it("writes the registry key for a registered project and resolves it through the registry", async () => {
    const featureStorage = new MemoryStorage();
    const runStorage = new MemoryStorage();
    const features = await seed(featureStorage, "project.json", ["feature build"]);
    const registry = new Registry().addProject("features", features);
    const runs = await Project.open("project.json", { storage: runStorage, mode: "w", author: "ada", registry, clock: steppingClock("2024-02-01T00:00:00Z") });
    await runs.log("train", (e) => {
      e.addDependency(features.get("feature-build"));
    });
    await runs.save();
    expect(runs.get("train").dependencies).toEqual(["features|feature-build-20240101000000"]);

    const reopened = await Project.open("project.json", { storage: runStorage, mode: "r", registry });
    const deps = await reopened.get("train").resolveDependencies();
    expect(deps.get("feature-build")?.slug).toBe("feature-build-20240101000000");
    expect(registry.keyFor(features)).toBe("features");
  });

  it("an explicit { key } is recorded as given", async () => {
    const storage = new MemoryStorage();
    const features = await seed(storage, "f/project.json", ["a"]);
    const runs = await Project.open("project.json", { storage, mode: "w", author: "ada" });
    await runs.log("x", (e) => {
      expect(e.addDependency(features.get("a"), { key: "shared-features" })).toBe("shared-features|a-20240101000000");
    });
  });
});

describe("laziness", () => {
  it("opening a project reads no upstream; first use reads each upstream once", async () => {
    const storage = new CountingStorage(new MemoryStorage());
    const features = await seed(storage, "features/project.json", ["a", "b", "c"]);
    const registry = new Registry();
    const runs = await Project.open("runs/project.json", { storage, mode: "w", author: "ada", registry, clock: steppingClock("2024-03-01T00:00:00Z") });
    for (const up of ["a", "b", "c"]) {
      await runs.log(`train ${up}`, (e) => {
        e.addDependency(features.get(up));
      });
    }
    await runs.save();
    storage.reads.clear();

    const reopened = await Project.open("runs/project.json", { storage, mode: "r", registry: new Registry() });
    expect(storage.readsOf("runs/project.json")).toBe(1);
    expect(storage.readsOf("features/project.json")).toBe(0);

    const resolved = await Promise.all(reopened.experiments.map((e) => e.resolveDependencies()));
    expect(resolved.map((m) => [...m.keys()])).toEqual([["a"], ["b"], ["c"]]);
    expect(storage.readsOf("features/project.json")).toBe(1);
    await reopened.get("train-a").resolveDependencies();
    expect(storage.readsOf("features/project.json")).toBe(1);
    // The three upstream experiments come from one opened project.
    expect(resolved[0]?.get("a")?.owner).toBe(resolved[2]?.get("c")?.owner);
  });

  it("a registered location is opened on first use only, once", async () => {
    const storage = new CountingStorage(new MemoryStorage());
    await seed(storage, "features/project.json", ["a"]);
    let opens = 0;
    // Registered locations are absolute (relative ones resolve against baseDir); map them back to keys.
    const registry = new Registry({
      baseDir: "/registry",
      openProject: async (location, { mode, registry: r }) => {
        opens++;
        return Project.open(location.replace("/registry/", ""), { storage, mode, registry: r });
      },
    }).addProject("features", "features/project.json");
    await Project.open("features/project.json", { storage, mode: "r", registry });
    expect(opens).toBe(0);
    const upstream = await registry.project("features");
    const again = await registry.project("features");
    expect(upstream).toBe(again);
    expect(opens).toBe(1);
  });
});

describe("errors", () => {
  it("an unknown key is MISSING_DEPENDENCY naming the key, the slug and the experiment", async () => {
    const storage = new MemoryStorage();
    const runs = await Project.open("project.json", { storage, mode: "w", author: "ada", clock: steppingClock() });
    const up = await seed(new MemoryStorage(), "project.json", ["up"]);
    await runs.log("train", (e) => {
      e.addDependency(up.get("up"), { key: "nowhere" });
    });
    await runs.save();
    const reopened = await Project.open("project.json", { storage, mode: "r", registry: new Registry() });
    const error = await caught(reopened.get("train").resolveDependencies());
    expect(error.code).toBe("MISSING_DEPENDENCY");
    expect(error.message).toContain('"nowhere"');
    expect(error.message).toContain("up-20240101000000");
    expect(error.message).toContain('"train-20240101000000"');
  });

  it("a missing upstream slug names both sides", async () => {
    const storage = new MemoryStorage();
    const features = await seed(storage, "features/project.json", ["a"]);
    const runs = await Project.open("runs/project.json", { storage, mode: "w", author: "ada", clock: steppingClock("2024-05-01T00:00:00Z") });
    await runs.log("train", (e) => {
      e.addDependency(features.get("a"));
    });
    runs.get("train").record.dependencies = ["../features/project.json|gone-20230101000000"];
    await runs.save();
    const reopened = await Project.open("runs/project.json", { storage, mode: "r", registry: new Registry() });
    const error = await caught(reopened.get("train").resolveDependencies());
    expect(error.code).toBe("MISSING_DEPENDENCY");
    expect(error.message).toContain("train-20240501000000");
    expect(error.message).toContain("gone-20230101000000");
    expect(error.message).toContain("memory://features/project.json");
  });

  it("a cycle between projects is a typed DEPENDENCY_CYCLE error naming it, and resolution does not loop", async () => {
    const storage = new MemoryStorage();
    const a = await Project.open("a/project.json", { storage, mode: "w", author: "ada", clock: steppingClock() });
    const b = await Project.open("b/project.json", { storage, mode: "w", author: "ada", clock: steppingClock("2024-06-01T00:00:00Z") });
    await a.log("a0", () => {});
    await a.save();
    await b.log("b1", (e) => {
      e.addDependency(a.get("a0"));
    });
    await b.save();
    await a.log("a1", (e) => {
      e.addDependency(b.get("b1"));
    });
    await a.save();

    const registry = new Registry();
    const opened = await Project.open("a/project.json", { storage, mode: "r", registry });
    const error = await caught(dependencyGraph(opened));
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect(error.code).toBe("DEPENDENCY_CYCLE");
    expect((error as DependencyCycleError).cycle).toEqual(["memory://a/project.json", "memory://b/project.json", "memory://a/project.json"]);
    expect(error.message).toContain("memory://a/project.json -> memory://b/project.json -> memory://a/project.json");

    const graph = await dependencyGraph(opened, { allowCycles: true });
    expect(graph.cycles).toHaveLength(1);
    expect(graph.edges).toHaveLength(2);

    // One level at a time: a1 -> b1 -> a0, back in the same (cached) project a.
    const b1 = (await opened.get("a1").resolveDependencies()).get("b1");
    const a0 = (await b1?.resolveDependencies())?.get("a0");
    expect(a0?.owner).toBe(opened);
  });
});

describe("dependencyGraph", () => {
  it("lists nodes, edges and missing dependencies across projects", async () => {
    const storage = new MemoryStorage();
    const features = await seed(storage, "features/project.json", ["raw", "clean"]);
    await features.log("joined", (e) => {
      e.addDependency(features.get("clean"));
    });
    await features.save();
    const runs = await Project.open("runs/project.json", { storage, mode: "w", author: "ada", clock: steppingClock("2024-07-01T00:00:00Z") });
    await runs.log("train", (e) => {
      e.addDependency(features.get("joined"));
      e.addDependency(features.get("raw"), { key: "lost" });
    });
    await runs.log("report", (e) => {
      e.addDependency(runs.get("train"));
    });
    await runs.save();

    const opened = await Project.open("runs/project.json", { storage, mode: "r" });
    const graph = await dependencyGraph(opened, { registry: new Registry() });
    expect(graph.projects).toEqual(["memory://runs/project.json", "memory://features/project.json"]);
    const F = "memory://features/project.json";
    const R = "memory://runs/project.json";
    const [raw, clean, joined] = ["raw", "clean", "joined"].map((n) => features.get(n).slug) as [string, string, string];
    const [train, report] = ["train", "report"].map((n) => runs.get(n).slug) as [string, string];
    const ids = graph.nodes.map((n) => n.id);
    expect(ids).toEqual([`${R}|${train}`, `${R}|${report}`, `${F}|${joined}`, `${F}|${clean}`]);
    expect(graph.edges).toEqual([
      { from: `${R}|${train}`, to: `${F}|${joined}`, dependency: `../features/project.json|${joined}` },
      { from: `${R}|${report}`, to: `${R}|${train}`, dependency: `project.json|${train}` },
      { from: `${F}|${joined}`, to: `${F}|${clean}`, dependency: `project.json|${clean}` },
    ]);
    expect(graph.missing).toHaveLength(1);
    expect(graph.missing[0]).toMatchObject({ key: "lost", slug: raw, reason: "project", from: `${R}|${train}` });
    expect(graph.cycles).toEqual([]);
    expect(isLabbookError(new LabbookError("DEPENDENCY_CYCLE", "x"), "DEPENDENCY_CYCLE")).toBe(true);
  });
});
