import { describe, expect, it } from "vitest";
import { Project } from "../src/project.js";
import { caught, RecordingStorage, tickingClock } from "./helpers.js";

const FILE = "project.json";

function fresh(storage = new RecordingStorage()) {
  return Project.open(FILE, { storage, author: "ada", clock: tickingClock() });
}

describe("project.log", () => {
  it("adds the experiment only when the callback finishes", async () => {
    const project = await fresh();
    let seenInside = -1;
    const exp = await project.log("run", async (e) => {
      await new Promise((r) => setTimeout(r, 5));
      seenInside = project.size;
      expect(project.has(e.slug)).toBe(false);
      e.logMetric("auc", 0.8);
    });
    expect(seenInside).toBe(0);
    expect(project.size).toBe(1);
    expect(project.get(exp.slug)).toBe(exp);
    expect(exp.slug).toBe("run-20240102030405");
    expect(exp.shortSlug).toBe("run");
  });

  it("adds nothing and rethrows the same error when the callback throws", async () => {
    const storage = new RecordingStorage();
    const project = await fresh(storage);
    const boom = new Error("boom");
    await expect(
      project.log("bad", async (e) => {
        e.logMetric("auc", 1);
        e.logArtifact("a", "text", { handler: "text" });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(project.size).toBe(0);
    expect(project.has("bad")).toBe(false);
    await project.save();
    expect(JSON.parse((await storage.text(FILE)) as string)).toEqual([]);
    expect(await storage.keys()).toEqual([FILE]);
  });

  it("refuses an empty name with INVALID_ARGUMENT", async () => {
    const project = await fresh();
    expect((await caught(() => project.log("  ", () => {}))).code).toBe("INVALID_ARGUMENT");
    expect(project.size).toBe(0);
  });
});

describe("experiment.logTest", () => {
  it("adds the test only when the callback finishes, and saves its artifacts in a folder named by its slug", async () => {
    const storage = new RecordingStorage();
    const project = await fresh(storage);
    const exp = await project.log("run", async (e) => {
      await e.logTest("Population Ä", { description: "d" }, async (t) => {
        expect(e.tests).toHaveLength(0);
        t.logMetric("m", 1);
        t.logParameter("p", "x");
        t.logArtifact("t-notes", "hi", { handler: "text", fname: "notes.txt" });
      });
      expect(e.tests).toHaveLength(1);
    });
    await project.save();
    expect(await storage.keys()).toContain(`${exp.slug}/population-a/notes.txt`);
    const [record] = JSON.parse((await storage.text(FILE)) as string) as Array<{ tests: Array<Record<string, unknown>> }>;
    expect(record?.tests[0]).toMatchObject({ name: "Population Ä", description: "d", metrics: { m: 1 }, parameters: { p: "x" } });
  });

  it("adds nothing and rethrows when the callback throws", async () => {
    const project = await fresh();
    const boom = new Error("test failed");
    const exp = await project.log("run", async (e) => {
      await expect(
        e.logTest("pop", {}, (t) => {
          t.logMetric("m", 1);
          throw boom;
        }),
      ).rejects.toBe(boom);
    });
    expect(exp.tests).toHaveLength(0);
    expect(exp.record.tests).toEqual([]);
  });

  it("refuses a metric that is not a number with INVALID_ARGUMENT", async () => {
    const project = await fresh();
    await project.log("run", (e) => {
      expect(() => e.logMetric("auc", "0.5" as unknown as number)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    });
  });
});

describe("experiment.logArtifact", () => {
  it("a duplicate name without overwrite is ARTIFACT_LOG; with overwrite it replaces", async () => {
    const storage = new RecordingStorage();
    const project = await fresh(storage);
    const exp = await project.log("run", (e) => {
      e.logArtifact("data", { v: 1 }, { handler: "json" });
      const error = (() => {
        try {
          e.logArtifact("data", { v: 2 }, { handler: "json" });
        } catch (err) {
          return err as { code: string; message: string };
        }
        return undefined;
      })();
      expect(error?.code).toBe("ARTIFACT_LOG");
      expect(error?.message).toContain("overwrite");
      e.logArtifact("data", { v: 3 }, { handler: "json", overwrite: true });
    });
    expect(exp.artifacts).toHaveLength(1);
    await project.save();
    const reopened = await Project.open(FILE, { storage, mode: "r" });
    expect(await reopened.get("run").loadArtifact("data")).toEqual({ v: 3 });
  });

  it("an unknown handler is ARTIFACT_LOG naming the known ones", async () => {
    const project = await fresh();
    await project.log("run", (e) => {
      expect(() => e.logArtifact("x", 1, { handler: "pickle" })).toThrowError(/no handler "pickle".*json/);
    });
  });

  it("uses lazyscribe's default file name <slug(name)>-<YYYYmmddHHMMSS>.<suffix>", async () => {
    const project = await fresh();
    const exp = await project.log("run", (e) => e.logArtifact("Feature Table Ü", { a: 1 }, { handler: "json" }));
    expect(exp.artifacts[0]?.fname).toMatch(/^feature-table-u-2024010203040\d\.json$/);
  });

  it.each(["../x", "/abs", "a\0b", "a\\b", "sub/../../x", "C:/x"])("refuses the unsafe file name %j with UNSAFE_PATH and writes nothing", async (fname) => {
    const storage = new RecordingStorage();
    const project = await fresh(storage);
    await project.log("run", (e) => {
      let code: string | undefined;
      try {
        e.logArtifact("x", "data", { handler: "text", fname });
      } catch (error) {
        code = (error as { code?: string }).code;
      }
      expect(code).toBe("UNSAFE_PATH");
      expect(e.artifacts).toHaveLength(0);
    });
    await project.save();
    expect(await storage.keys()).toEqual([FILE]);
    expect(storage.writes).toEqual([FILE]);
  });
});
