import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../src/memory-storage.js";
import { Project } from "../src/project.js";
import { stringifyPyJson } from "../src/pyjson.js";
import { caught, tickingClock } from "./helpers.js";

const FILE = "project.json";

async function threeRuns() {
  const project = await Project.open(FILE, { storage: new MemoryStorage(), author: "ada", clock: tickingClock() });
  await project.log("Baseline", (e) => {
    e.logMetric("auc", 0.5);
    e.logParameter("lr", 0.1);
    e.tag("a");
  });
  await project.log("Tuned", (e) => e.logMetric("auc", 0.7));
  await project.log("Baseline", (e) => {
    e.logMetric("auc", 0.6);
    e.tag("b", "c");
  });
  return project;
}

describe("lookup", () => {
  it("get by slug and by short slug (the latest created_at wins), has, find", async () => {
    const project = await threeRuns();
    const [first, , third] = project.experiments;
    expect(first?.slug).toBe("baseline-20240102030405");
    expect(project.get("baseline-20240102030405")).toBe(first);
    expect(project.get("baseline")).toBe(third);
    expect(project.get("tuned").name).toBe("Tuned");
    expect(project.has("baseline")).toBe(true);
    expect(project.has("nope")).toBe(false);
    expect(project.find("nope")).toBeUndefined();
    const error = await caught(() => project.get("nope"));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain('"nope"');
  });

  it("the latest created_at wins even when it is not the last in the file", async () => {
    const storage = new MemoryStorage();
    const record = (created: string) => ({
      artifacts: [],
      author: "py",
      created_at: created,
      dependencies: [],
      last_updated: created,
      last_updated_by: "py",
      metrics: {},
      name: "x",
      parameters: {},
      short_slug: "x",
      slug: `x-${created.replace(/\D/g, "")}`,
      tags: [],
      tests: [],
    });
    await storage.write(FILE, stringifyPyJson([record("2024-01-01T00:00:02"), record("2024-01-01T00:00:01")], { indent: 4, sortKeys: true }));
    const project = await Project.open(FILE, { storage, mode: "r" });
    expect(project.get("x").slug).toBe("x-20240101000002");
  });

  it("iterates and filters in file order, and toRows flattens metrics and parameters", async () => {
    const project = await threeRuns();
    expect([...project].map((e) => e.name)).toEqual(["Baseline", "Tuned", "Baseline"]);
    expect(project.filter((e) => (e.metrics.auc ?? 0) > 0.55).map((e) => e.name)).toEqual(["Tuned", "Baseline"]);
    const rows = project.toRows();
    expect(rows[0]).toEqual({
      name: "Baseline",
      slug: "baseline-20240102030405",
      short_slug: "baseline",
      author: "ada",
      created_at: "2024-01-02T03:04:05",
      last_updated: project.experiments[0]?.record.last_updated,
      tags: ["a"],
      "metrics.auc": 0.5,
      "parameters.lr": 0.1,
    });
    expect(rows.map((r) => r.tags)).toEqual([["a"], [], ["b", "c"]]);
  });
});

describe("merge", () => {
  async function copies() {
    const storage = new MemoryStorage();
    const base = await Project.open(FILE, { storage, author: "ada", clock: tickingClock() });
    await base.log("shared", (e) => e.logMetric("auc", 0.5));
    await base.log("only-a", () => {});
    await base.save();
    const a = await Project.open(FILE, { storage, mode: "w+", author: "ada", clock: tickingClock("2024-06-01T00:00:00Z") });
    const b = await Project.open(FILE, { storage, mode: "w+", author: "bob", clock: tickingClock("2024-06-01T00:00:00Z") });
    return { a, b };
  }

  it("keeps the copy with the newer last_updated", async () => {
    const { a, b } = await copies();
    a.get("shared").logMetric("auc", 0.6);
    b.get("shared").logMetric("auc", 0.7);
    b.get("shared").logMetric("auc", 0.8); // one second later than a's edit
    for (const merged of [a.merge(b), b.merge(a)]) {
      expect(merged.get("shared").metrics.auc).toBe(0.8);
      expect(merged.size).toBe(2);
      expect(merged.mode).toBe("w+");
    }
  });

  it("breaks a tie the same way whatever the argument order", async () => {
    const { a, b } = await copies();
    a.get("shared").logMetric("auc", 0.6);
    b.get("shared").logMetric("auc", 0.7);
    expect(a.get("shared").record.last_updated).toBe(b.get("shared").record.last_updated);
    const ab = a.merge(b);
    const ba = b.merge(a);
    expect(ab.serialize()).toBe(ba.serialize());
    expect([0.6, 0.7]).toContain(ab.get("shared").metrics.auc);
  });

  it("keeps experiments only one side has, in created_at order", async () => {
    const { a, b } = await copies();
    await b.log("only-b", () => {});
    const merged = a.merge(b);
    expect([...merged].map((e) => e.shortSlug)).toEqual(["shared", "only-a", "only-b"]);
  });
});
