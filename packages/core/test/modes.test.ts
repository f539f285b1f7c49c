import { describe, expect, it } from "vitest";
import { Project, type ProjectMode } from "../src/project.js";
import { caught, RecordingStorage, tickingClock } from "./helpers.js";

const FILE = "project.json";

/** A stored project with one experiment (metric, tag, artifact and a test) written by "ada". */
async function seeded(): Promise<{ storage: RecordingStorage; before: string }> {
  const storage = new RecordingStorage();
  const project = await Project.open(FILE, { storage, author: "ada", clock: tickingClock() });
  await project.log("base", async (exp) => {
    exp.logMetric("auc", 0.5);
    exp.tag("t");
    exp.logArtifact("notes", "hello", { handler: "text" });
    await exp.logTest("pop", {}, (test) => test.logMetric("m", 1));
  });
  await project.save();
  return { storage, before: (await storage.text(FILE)) as string };
}

function open(storage: RecordingStorage, mode: ProjectMode, author = "bob") {
  return Project.open(FILE, { storage, mode, author, clock: tickingClock("2025-05-05T05:05:05Z") });
}

describe('mode "r"', () => {
  it("refuses every mutation and save with READ_ONLY and leaves the file alone", async () => {
    const { storage, before } = await seeded();
    const project = await open(storage, "r");
    const exp = project.get("base");
    const test = exp.tests[0];
    if (!test) throw new Error("test missing");
    const attempts: Array<[string, () => unknown]> = [
      ["log", () => project.log("new", () => {})],
      ["append", () => project.append(exp)],
      ["save", () => project.save()],
      ["logMetric", () => exp.logMetric("auc", 1)],
      ["logParameter", () => exp.logParameter("p", 1)],
      ["tag", () => exp.tag("x")],
      ["logArtifact", () => exp.logArtifact("a", "x", { handler: "text" })],
      ["logTest", () => exp.logTest("t2", {}, () => {})],
      ["test.logMetric", () => test.logMetric("m", 2)],
      ["test.logParameter", () => test.logParameter("p", 2)],
      ["test.logArtifact", () => test.logArtifact("a", "x", { handler: "text" })],
    ];
    for (const [what, attempt] of attempts) {
      const error = await caught(attempt);
      expect(error.code, what).toBe("READ_ONLY");
    }
    expect(exp.frozen).toBe(true);
    expect(exp.metrics.auc).toBe(0.5);
    expect(exp.tests).toHaveLength(1);
    expect(await storage.text(FILE)).toBe(before);
  });

  it("is NOT_FOUND when there is no project", async () => {
    const error = await caught(() => open(new RecordingStorage(), "r"));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("project.json");
  });
});

describe('mode "a"', () => {
  it("freezes loaded experiments but logs and saves new ones, leaving the old record as it was", async () => {
    const { storage, before } = await seeded();
    const project = await open(storage, "a");
    const old = project.get("base");
    expect(old.frozen).toBe(true);
    expect((await caught(() => old.logMetric("auc", 1))).code).toBe("READ_ONLY");
    await project.log("second", (exp) => exp.logMetric("auc", 0.7));
    await project.save();
    const after = JSON.parse((await storage.text(FILE)) as string) as Array<Record<string, unknown>>;
    expect(after.map((e) => e.name)).toEqual(["base", "second"]);
    expect(after[0]).toEqual((JSON.parse(before) as unknown[])[0]);
    expect(after[1]?.author).toBe("bob");
  });

  it("is the default mode", async () => {
    const { storage } = await seeded();
    const project = await Project.open(FILE, { storage });
    expect(project.mode).toBe("a");
  });
});

describe('mode "w"', () => {
  it("never reads the old file and replaces it on save", async () => {
    const { storage } = await seeded();
    await storage.inner.write(FILE, "this is not JSON");
    storage.reset();
    const project = await open(storage, "w");
    expect(project.size).toBe(0);
    expect(storage.reads).toEqual([]);
    await project.log("fresh", () => {});
    await project.save();
    expect(storage.reads).toEqual([]);
    const after = JSON.parse((await storage.text(FILE)) as string) as Array<Record<string, unknown>>;
    expect(after.map((e) => e.name)).toEqual(["fresh"]);
  });
});

describe('mode "w+"', () => {
  it("allows edits of loaded experiments and sets last_updated_by to the project author on save", async () => {
    const { storage } = await seeded();
    const project = await open(storage, "w+", "carol");
    const exp = project.get("base");
    expect(exp.frozen).toBe(false);
    exp.logMetric("auc", 0.9);
    await exp.logTest("new-pop", { description: "later" }, (t) => t.logMetric("m", 3));
    await project.save();
    const [record] = JSON.parse((await storage.text(FILE)) as string) as Array<Record<string, unknown>>;
    expect(record?.author).toBe("ada");
    expect(record?.last_updated_by).toBe("carol");
    expect(record).toMatchObject({ metrics: { auc: 0.9 }, last_updated: expect.stringMatching(/^2025-05-05T05:05:0\d$/) });
    expect(record?.tests).toHaveLength(2);
  });

  it("leaves last_updated_by alone for experiments it did not change", async () => {
    const { storage } = await seeded();
    const project = await open(storage, "w+", "carol");
    await project.log("other", () => {});
    await project.save();
    const records = JSON.parse((await storage.text(FILE)) as string) as Array<Record<string, unknown>>;
    expect(records.map((r) => r.last_updated_by)).toEqual(["ada", "carol"]);
  });
});

it("an unknown mode is a typed INVALID_ARGUMENT error naming the modes", async () => {
  const error = await caught(() => Project.open(FILE, { storage: new RecordingStorage(), mode: "rw" as ProjectMode }));
  expect(error.code).toBe("INVALID_ARGUMENT");
  expect(error.message).toContain('"rw"');
  expect(error.message).toContain("w+");
});
