/**
 * Live interop with Python lazyscribe 2.2 (the venv made by tooling/ci/setup.sh), both ways, on
 * temp folders: tooling/python/interop_project.py writes, dumps and edits projects; labbook opens
 * them and must see what Python sees. Under CI=true a missing venv fails (findPython throws).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { findPython, repoRoot, runPython } from "@labbook-internal/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ArtifactEntry,
  type Experiment,
  formatDate,
  isLabbookError,
  LocalStorage,
  markFloat,
  openProject,
  type Project,
  parsePyJson,
  type Test,
} from "../src/index.js";

const SCRIPT = path.join(repoRoot, "tooling/python/interop_project.py");
const python = findPython();

/** An experiment as interop_project.py dumps it: lazyscribe's to_dict() plus loaded artifact values. */
type Dumped = Record<string, unknown> & { artifacts: ArtifactEntry[]; artifact_values: Record<string, unknown>; tests: Array<Record<string, unknown>> };

async function python_(command: "write" | "dump" | "edit", dir: string): Promise<Dumped[]> {
  return parsePyJson(await runPython(SCRIPT, [command, dir])) as Dumped[];
}

/** lazyscribe drops fields it does not know (labbook's size and sha256) when it loads an entry. */
function entryView(entry: Readonly<ArtifactEntry>): Record<string, unknown> {
  const { size: _size, sha256: _sha256, ...rest } = entry;
  return rest;
}

/** Load every artifact labbook can read; pickle ones must be refused with ARTIFACT_LOAD naming the handler. */
async function values(owner: Experiment | Test): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const entry of owner.artifacts) {
    if (entry.handler === "pickle") {
      const error = await owner.loadArtifact(entry.name).catch((e: unknown) => e);
      expect(isLabbookError(error, "ARTIFACT_LOAD"), `pickle artifact ${entry.name}`).toBe(true);
      expect((error as Error).message).toContain('"pickle" handler');
      continue;
    }
    out[entry.name] = await owner.loadArtifact(entry.name);
  }
  return out;
}

/** What labbook's public API shows, in the shape of Python's dump. */
async function labbookView(project: Project): Promise<Dumped[]> {
  const out: Dumped[] = [];
  for (const exp of project) {
    const tests = [];
    for (const t of exp.tests) {
      tests.push({
        name: t.name,
        description: t.description,
        metrics: t.metrics,
        parameters: t.parameters,
        artifacts: t.artifacts.map(entryView),
        artifact_values: await values(t),
      });
    }
    out.push({
      name: exp.name,
      author: exp.author,
      last_updated_by: exp.lastUpdatedBy,
      metrics: exp.metrics,
      parameters: exp.parameters,
      created_at: formatDate(exp.createdAt),
      last_updated: formatDate(exp.lastUpdated),
      dependencies: [...exp.dependencies],
      short_slug: exp.shortSlug,
      slug: exp.slug,
      tags: [...exp.tags],
      tests,
      artifacts: exp.artifacts.map(entryView) as ArtifactEntry[],
      artifact_values: await values(exp),
    });
  }
  return out;
}

/** Python's dump without the values labbook cannot load (pickle), which values() checks are refused. */
function withoutPickleValues(dump: Dumped[]): Dumped[] {
  const strip = (owner: { artifacts: ArtifactEntry[]; artifact_values: Record<string, unknown> }) => {
    for (const a of owner.artifacts) if (a.handler === "pickle") delete owner.artifact_values[a.name];
  };
  for (const exp of dump) {
    strip(exp);
    for (const t of exp.tests) strip(t as never);
  }
  return dump;
}

/** labbook logs a project and its upstream in `dir`, covering what lazyscribe files can hold. */
async function writeWithLabbook(dir: string): Promise<void> {
  let now = new Date("2025-06-01T10:00:00Z");
  const clock = () => now;
  const storage = new LocalStorage(dir);
  const upstream = await openProject("upstream.json", { storage, mode: "w", author: "lb", clock });
  const source = await upstream.log("raw data", (exp) => exp.logMetric("rows", 12));
  await upstream.save();

  const project = await openProject("project.json", { storage, mode: "w", author: "lb", clock });
  now = new Date("2025-06-02T11:00:00Z");
  await project.log("labbook run ✓ 🚀", async (exp) => {
    now = new Date("2025-06-02T11:05:00Z");
    exp.logMetric("acc", 1);
    markFloat(exp.metrics, "acc");
    exp.logMetric("n", 3);
    exp.logMetric("tiny", 1e-5);
    exp.logMetric("big", 1e16);
    exp.logMetric("nan", Number.NaN);
    exp.logMetric("inf", Number.POSITIVE_INFINITY);
    exp.logMetric("ninf", Number.NEGATIVE_INFINITY);
    exp.logParameter("model", { kind: "gbm", depth: [2, 4, 8], opts: { eta: 0.1, subsample: null, flags: [true, false] } });
    exp.logParameter("naïve 名前", "値");
    exp.tag("ts", "émoji 🎉");
    // Same storage: recorded relative to the project folder, as Python resolves it from its cwd.
    expect(exp.addDependency(source)).toBe(`upstream.json|${source.slug}`);
    exp.logArtifact("report", { rows: [1, 2.5, null], label: "résumé ☕", nan: Number.NaN }, { handler: "json" });
    exp.logArtifact("nested file", { deep: { er: [1] } }, { handler: "json", fname: "a/b/c.json", writerOptions: { indent: 4 } });
    now = new Date("2025-06-02T11:06:00Z");
    await exp.logTest("population α", { description: "greek ✓" }, (test) => {
      test.logMetric("auc", 0.5);
      test.logParameter("slice", { from: 0, to: 10 });
      test.logArtifact(
        "hist",
        [
          [0, 1],
          [1, 4],
        ],
        { handler: "json", fname: "plots/hist.json" },
      );
      test.logArtifact("counts", { a: 1 }, { handler: "json" });
    });
    await exp.logTest("no description", {}, (test) => test.logMetric("x", 0));
  });
  now = new Date("2025-06-03T12:00:00Z");
  await project.log("plain", (exp) => {
    exp.logMetric("acc", 0.25);
    exp.tag("second");
  });
  await project.save();
}

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "labbook-interop-"));
  tempDirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("findPython", () => {
  it("throws under CI=true when the venv is missing, so interop tests cannot be skipped in CI", () => {
    const saved = { CI: process.env.CI, LABBOOK_VENV: process.env.LABBOOK_VENV };
    try {
      process.env.CI = "true";
      process.env.LABBOOK_VENV = path.join(tmpdir(), "labbook-no-such-venv");
      expect(() => findPython()).toThrow(/No Python venv/);
    } finally {
      for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
    }
  });
});

describe.skipIf(python === undefined)("live interop with Python lazyscribe 2.2", () => {
  it("Python writes, labbook reads the same values, loads every json artifact and refuses pickle", async () => {
    const dir = await tempDir();
    const dump = await python_("write", dir);
    const project = await openProject(path.join(dir, "project.json"), { mode: "r" });
    expect(dump.some((e) => e.artifacts.some((a) => a.handler === "pickle"))).toBe(true);
    expect(await labbookView(project)).toEqual(withoutPickleValues(dump));
  });

  it("Python's file comes back byte for byte after labbook opens it in w+ and saves", async () => {
    const dir = await tempDir();
    await python_("write", dir);
    const file = path.join(dir, "project.json");
    const before = await readFile(file, "utf8");
    const project = await openProject(file, { mode: "w+", author: "lb" });
    expect(project.serialize()).toBe(before);
    await project.save();
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("labbook writes, Python opens it in r and w+, loads the json artifacts, merges and saves; labbook reads the result", async () => {
    const dir = await tempDir();
    await writeWithLabbook(dir);
    const written = await openProject(path.join(dir, "project.json"), { mode: "r" });
    const labbookBefore = await labbookView(written);
    expect(written.experiments.flatMap((e) => e.artifacts).every((a) => a.sha256 !== undefined)).toBe(true);

    // Python sees what labbook wrote.
    expect(await python_("dump", dir)).toEqual(labbookBefore);

    // Python edits (w+), merges in its own experiment and saves; labbook reads that back.
    const edited = await python_("edit", dir);
    const reopened = await openProject(path.join(dir, "project.json"), { mode: "r" });
    expect(await labbookView(reopened)).toEqual(edited);
    expect(reopened.experiments.map((e) => e.name)).toEqual(["labbook run ✓ 🚀", "plain", "from python ✨"]);
    expect(reopened.experiments.map((e) => e.metrics.python_metric)).toEqual([1, 1, undefined]);
    const run = reopened.get("labbook-run");
    expect(run.metrics.nan).toBeNaN();
    expect(run.metrics.ninf).toBe(Number.NEGATIVE_INFINITY);
    expect(run.lastUpdatedBy).toBe("python");
    // Documented: lazyscribe drops labbook's size and sha256 when it rewrites the entries.
    expect(reopened.experiments.flatMap((e) => e.artifacts).some((a) => a.sha256 !== undefined)).toBe(false);

    // And Python's rewrite survives labbook unchanged.
    const file = path.join(dir, "project.json");
    const pythonText = await readFile(file, "utf8");
    const again = await openProject(file, { mode: "w+", author: "lb" });
    expect(again.serialize()).toBe(pythonText);
    expect(pythonText).toContain('"acc": 1.0');
  });
});
