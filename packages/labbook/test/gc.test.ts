/**
 * gc deletes only what it can prove no index under the folder names: the demo's layout (a
 * repository inside the project folder), sub-folder projects, sibling indexes in lazyscribe's
 * format, unreadable or half-written siblings (then nothing at all), and temp files of killed
 * writers once they are old. Run through the built command, as a user would.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUnreferencedFiles, openProject, openRepository } from "../src/index.js";
import { ensureBuilt, labbook } from "./cli-helpers.js";

let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "labbook-gc-"));
}, 600_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk("");
  return out.sort();
}

/** A project with two experiments (an artifact each, one with a test artifact) at `dir`. */
async function makeProject(dir: string, start = Date.UTC(2024, 4, 1, 10)): Promise<void> {
  let now = start;
  const project = await openProject(dir, { mode: "w", author: "ada", clock: () => new Date(now) });
  for (const [i, name] of ["baseline", "tuned"].entries()) {
    now = start + i * 1000;
    await project.log(name, async (e) => {
      e.logMetric("auc", 0.8 + i / 10);
      e.logArtifact("features", { columns: ["a", "b"], i }, { handler: "json" });
      if (i === 1) await e.logTest("holdout", {}, (t) => t.logArtifact("confusion", [[1, 2]], { handler: "json" }));
    });
  }
  await project.save();
}

/** A leftover nobody names, an hour and a half old (a json artifact's content when it ends in .json). */
function orphan(dir: string, rel: string): string {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, rel.endsWith(".json") ? '{"left": "over"}' : "left over");
  const old = new Date(Date.now() - 5400_000);
  utimesSync(file, old, old);
  return rel;
}

function gcJson(dir: string, ...extra: string[]) {
  const r = labbook(["gc", dir, "--min-age", "0", "--json", ...extra]);
  if (r.code !== 0) throw new Error(`gc exited with ${r.code}: ${r.stderr}`);
  return { ...r, result: JSON.parse(r.stdout) };
}

describe("labbook gc keeps everything an index names", () => {
  it("the demo's layout: a repository (repository.json, releases.json, version files) inside the project folder survives --delete", async () => {
    const dir = path.join(tmp, "demo");
    await makeProject(dir);
    const project = await openProject(dir, { mode: "r" });
    const repository = await openRepository(path.join(dir, "repository", "repository.json"));
    await repository.promote(project.get("tuned"), "features");
    await repository.createRelease("v1");
    const stray = orphan(dir, "removed-20230101000000/model.bin");
    const before = tree(dir);
    expect(before).toContain("repository/releases.json");
    expect((await findUnreferencedFiles(project)).map((f) => f.key)).toEqual([stray]);
    const r = labbook(["gc", dir, "--min-age", "0", "--delete"]);
    expect(r.stderr).toContain("Deleted 1 unreferenced file(s)");
    expect(r.code).toBe(0);
    expect(tree(dir)).toEqual(before.filter((f) => f !== stray));
    const reopened = await openRepository(path.join(dir, "repository"), { mode: "r" });
    expect(await reopened.loadArtifact("features")).toEqual({ columns: ["a", "b"], i: 1 });
  });

  it("a project in a sub-folder keeps its experiments' files", async () => {
    const dir = path.join(tmp, "nested");
    await makeProject(dir);
    await makeProject(path.join(dir, "team-b"), Date.UTC(2024, 6, 1));
    const stray = orphan(dir, "team-b/dropped-20200101000000/old.json");
    const before = tree(dir);
    const { result } = gcJson(dir, "--delete");
    expect(result.files.map((f: { key: string }) => f.key)).toEqual([stray]);
    expect(tree(dir)).toEqual(before.filter((f) => f !== stray));
    expect(await openProject(path.join(dir, "team-b"), { mode: "r" }).then((p) => p.get("tuned").loadArtifact("features"))).toEqual({
      columns: ["a", "b"],
      i: 1,
    });
  });

  it("a sibling written by lazyscribe with NaN and null metrics (which labbook's schema refuses) still names its files", async () => {
    const dir = path.join(tmp, "lazy-sibling");
    await makeProject(dir);
    const record = {
      artifacts: [{ created_at: "2024-02-01T00:00:00", expiry: null, fname: "model-20240201000000.json", handler: "json", name: "model", version: 0 }],
      author: "py",
      created_at: "2024-02-01T00:00:00",
      dependencies: [],
      last_updated: "2024-02-01T00:00:00",
      last_updated_by: "py",
      metrics: { auc: "__NAN__", loss: null },
      name: "python run",
      parameters: {},
      short_slug: "python-run",
      slug: "python-run-20240201000000",
      tags: [],
      tests: [],
    };
    writeFileSync(path.join(dir, "python.json"), JSON.stringify([record], null, 4).replace('"__NAN__"', "NaN"));
    const kept = orphan(dir, "python-run-20240201000000/model-20240201000000.json");
    const stray = orphan(dir, "python-run-20240201000000/stray.txt");
    const { result, stderr } = gcJson(dir, "--delete");
    expect(stderr).toBe("");
    expect(result.files.map((f: { key: string }) => f.key)).toEqual([stray]);
    expect(existsSync(path.join(dir, kept))).toBe(true);
  });
});

describe("labbook gc deletes nothing when an index cannot be read", () => {
  it.each([
    ["with Python's None written as is", (text: string) => text.replace(/"auc": [0-9.e-]+/, '"auc": None')],
    ["caught mid-write (cut in half)", (text: string) => text.slice(0, Math.floor(text.length / 2))],
  ])("a sibling index %s: exit 1, the file named, nothing deleted", async (_label, damage) => {
    const dir = path.join(tmp, `broken-${_label.length}`);
    await makeProject(dir);
    const other = path.join(tmp, `other-${_label.length}`);
    await makeProject(other, Date.UTC(2024, 7, 1));
    writeFileSync(path.join(dir, "other.json"), damage(readFileSync(path.join(other, "project.json"), "utf8")));
    orphan(dir, "removed-20230101000000/model.bin");
    const before = tree(dir);
    const r = labbook(["gc", dir, "--min-age", "0", "--delete"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(path.join(dir, "other.json"));
    expect(r.stderr).toContain("Nothing was deleted");
    expect(r.stderr).toContain("INVALID_FORMAT");
    expect(tree(dir)).toEqual(before);
  });
});

describe("labbook gc and temp files of killed writers", () => {
  it("removes unfinished writes older than --min-age, keeps younger ones and never touches indexes or locks", async () => {
    const dir = path.join(tmp, "temps");
    await makeProject(dir);
    const old = new Date(Date.now() - 7200_000);
    const oldTemps = [".project.json.4242.a1b2c3d4e5f6.lbtmp", "baseline-20240501100000/.features-x.json.4242.0a0b0c0d0e0f.lbtmp"];
    for (const rel of oldTemps) {
      writeFileSync(path.join(dir, rel), "half");
      utimesSync(path.join(dir, rel), old, old);
    }
    const young = ".project.json.4343.ffffffffffff.lbtmp";
    writeFileSync(path.join(dir, young), "still writing");
    mkdirSync(path.join(dir, "project.json.lock"));
    const listed = labbook(["gc", dir, "--min-age", "3600", "--json"]);
    expect(listed.code).toBe(0);
    const result = JSON.parse(listed.stdout);
    expect(result.temporary_files.map((f: { key: string }) => f.key).sort()).toEqual([...oldTemps].sort());
    expect(result.skipped_recent).toBe(1);
    const r = labbook(["gc", dir, "--min-age", "3600", "--delete"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Deleted 2 unreferenced file(s) (2 of them unfinished writes of stopped writers)");
    for (const rel of oldTemps) expect(existsSync(path.join(dir, rel))).toBe(false);
    expect(existsSync(path.join(dir, young))).toBe(true);
    expect(existsSync(path.join(dir, "project.json.lock"))).toBe(true);
    expect(existsSync(path.join(dir, "project.json"))).toBe(true);
  });
});

describe("gc beside writers (processes), on local disk", () => {
  it("3 writers into the project and one into a repository inside it while gc --delete runs over and over: planted leftovers go, nothing acknowledged does", async () => {
    const { gcBesideWriters } = await import("../../../reliability/gc.js");
    const root = mkdtempSync(path.join(tmpdir(), "labbook-gc-writers-"));
    try {
      const f = await gcBesideWriters({ root, writers: 3, perWriter: 20, repoPerWriter: 20, leftovers: 8 });
      expect(f.failures).toEqual([]);
      expect(f.lost).toBe(0);
      expect(f.duplicated).toBe(0);
      expect(f.brokenArtifacts).toBe(0);
      expect(f.gcRefused).toBe(0);
      expect(f.leftoversKept).toBe(0);
      expect(f.written).toBe(3 * 20 + 20 + 9);
      expect(f.gcRounds).toBeGreaterThan(1);
      expect(f.deleted).toBe(8);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 300_000);
});
