/**
 * save() builds each changed experiment's text once, for its check, and fills in its artifact and
 * test entries after their files are written. What it writes must be exactly what a whole build of
 * the final records gives (and so what lazyscribe writes): these compare the bytes.
 */
import { describe, expect, it } from "vitest";
import { MemoryStorage, markFloat, Project, parsePyJson, stringifyPyJson } from "../src/index.js";

const decoder = new TextDecoder();

/** The file as a whole build of the records in it writes it. */
function wholeBuild(text: string): string {
  return stringifyPyJson(parsePyJson(text, "project.json"), { indent: 4, sortKeys: true });
}

function clock() {
  let t = Date.UTC(2024, 4, 1, 10, 0, 0);
  return () => new Date((t += 1000));
}

describe("the index text save() writes", () => {
  it("is byte-identical to a whole build, with artifacts, tests, float spellings and non-ASCII text", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, mode: "w", author: "ada", clock: clock() });
    await project.log("ünïcode run", async (e) => {
      e.logMetric("auc", 0.91);
      e.logMetric("epochs", 3);
      markFloat(e.record.metrics, "epochs");
      e.logParameter("nested", { b: [1, 2, { z: "x\ny", a: null }], a: "é" });
      e.tag("t1", "t2");
      e.logArtifact("config", { lr: 0.1 }, { handler: "json" });
      e.logArtifact("notes", "hello", { handler: "text" });
      await e.logTest("slice", { description: "a slice" }, (test) => {
        test.logMetric("acc", 0.5);
        test.logArtifact("sample", { rows: [1, 2] }, { handler: "json" });
      });
    });
    await project.log("plain", () => {});
    await project.save();
    const text = decoder.decode(await storage.read("project.json"));
    expect(text).toBe(wholeBuild(text));
    const [first] = JSON.parse(text);
    expect(first.artifacts.map((a: { sha256?: string }) => typeof a.sha256)).toEqual(["string", "string"]);
    expect(first.tests[0].artifacts[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(text).toContain('"epochs": 3.0');
    expect(text).toContain("\\u00fcn\\u00efcode run");
  });

  it("keeps unknown top-level fields (before, after and numeric ones) as a whole build writes them", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, mode: "w", author: "ada", clock: clock() });
    const source = await Project.open("source.json", { storage, mode: "w", author: "ada", clock: clock() });
    const exp = await source.log("x", (e) => e.logMetric("m", 1));
    const withText = project.appendRecord({ ...structuredClone(exp.record), Alpha: "first", zulu: [1, 2] });
    withText.logArtifact("late", { a: 1 }, { handler: "json" });
    const withNumber = project.appendRecord({ ...structuredClone(exp.record), version: 2.5 });
    withNumber.logArtifact("late", { a: 2 }, { handler: "json" });
    await project.log("y", (e) => e.logArtifact("cfg", [1], { handler: "json" }));
    await project.save();
    const text = decoder.decode(await storage.read("project.json"));
    expect(text).toBe(wholeBuild(text));
    expect(text).toContain('"Alpha": "first"');
    expect(text).toContain('"zulu": [');
    expect(text).toContain('"version": 2.5');
  });

  it("a change made while save() writes the artifact files is in the text it commits", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, mode: "w", author: "ada", clock: clock() });
    const exp = await project.log("run", (e) => e.logArtifact("cfg", { a: 1 }, { handler: "json" }));
    const saving = project.save();
    exp.logMetric("late", 7);
    await saving;
    const text = decoder.decode(await storage.read("project.json"));
    expect(text).toBe(wholeBuild(text));
    expect(JSON.parse(text)[0].metrics).toEqual({ late: 7 });
  });
});
