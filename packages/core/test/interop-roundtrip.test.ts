/**
 * A project written by Python lazyscribe 2.2 (the committed fixture, see
 * tooling/python/make_project_fixture.py) survives labbook: unchanged it is rewritten byte for byte,
 * and one changed metric changes exactly the lines Python would change.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isLabbookError, MemoryStorage, Project } from "../src/index.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/lazyscribe/", import.meta.url));
const decoder = new TextDecoder();
const pythonProject = readFileSync(path.join(FIXTURE, "project.json"), "utf8");

/** A memory storage holding every file of the fixture under the same relative keys. */
async function fixtureStorage(): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  const walk = (dir: string, prefix: string): Promise<unknown>[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(path.join(dir, d.name), `${prefix}${d.name}/`) : [storage.write(`${prefix}${d.name}`, readFileSync(path.join(dir, d.name)))],
    );
  await Promise.all(walk(FIXTURE, ""));
  return storage;
}

/** Lines that differ between two texts of the same line count, with their line numbers. */
function changedLines(before: string, after: string): Array<{ line: number; before: string; after: string }> {
  const a = before.split("\n");
  const b = after.split("\n");
  expect(b.length).toBe(a.length);
  return a.flatMap((l, i) => (l === b[i] ? [] : [{ line: i + 1, before: l.trim(), after: (b[i] ?? "").trim() }]));
}

describe("a lazyscribe 2.2 project through labbook", () => {
  it("is rewritten byte for byte when nothing changed (mode w+)", async () => {
    const storage = await fixtureStorage();
    const project = await Project.open("project.json", { storage, mode: "w+", author: "bob" });
    expect(project.size).toBe(3);
    expect(project.serialize()).toBe(pythonProject);
    await project.save();
    expect(decoder.decode(await storage.read("project.json"))).toBe(pythonProject);
  });

  it("differs from Python's file only in the changed metric, last_updated and last_updated_by", async () => {
    const storage = await fixtureStorage();
    const project = await Project.open("project.json", { storage, mode: "w+", author: "bob", clock: () => new Date("2024-05-06T07:08:09Z") });
    project.get("baseline-20240102030405").logMetric("auc", 0.95);
    await project.save();
    const after = decoder.decode(await storage.read("project.json"));
    expect(changedLines(pythonProject, after)).toEqual([
      { line: 24, before: '"last_updated": "2024-01-02T03:07:00",', after: '"last_updated": "2024-05-06T07:08:09",' },
      { line: 25, before: '"last_updated_by": "ada",', after: '"last_updated_by": "bob",' },
      { line: 28, before: '"auc": 0.9123,', after: '"auc": 0.95,' },
    ]);
  });

  it("keeps Python's number spelling in a loaded json artifact logged again", async () => {
    const storage = await fixtureStorage();
    const project = await Project.open("project.json", { storage, mode: "w+", author: "bob" });
    const exp = project.get("baseline-20240102030405");
    exp.logArtifact("features copy", await exp.loadArtifact("features"), { handler: "json", fname: "copy.json" });
    await project.save();
    const original = readFileSync(path.join(FIXTURE, exp.slug, "features-20240102030500.json"), "utf8");
    expect(original).toContain("[1.0, 0.25, -3]");
    expect(decoder.decode(await storage.read(`${exp.slug}/copy.json`))).toBe(original);
  });

  it("keeps the pickle artifact's entry and file but refuses to load it, naming the handler", async () => {
    const storage = await fixtureStorage();
    const project = await Project.open("project.json", { storage, mode: "r" });
    const exp = project.get("modele-cafe");
    const error = await exp.loadArtifact("model").catch((e: unknown) => e);
    expect(isLabbookError(error, "ARTIFACT_LOAD")).toBe(true);
    expect((error as Error).message).toContain('"pickle" handler');
    const chunks: Uint8Array[] = [];
    for await (const chunk of await exp.openArtifactStream("model")) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(readFileSync(path.join(FIXTURE, exp.slug, exp.artifacts[0]?.fname ?? "")))).toBe(true);
    expect(await exp.loadArtifact("résumé")).toEqual({ texte: "été 🌞", score: 1.5 });
  });
});
