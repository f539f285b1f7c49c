import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isLabbookError } from "@labbook/core";
import { Repository } from "@labbook/repository";
import { LocalStorage } from "@labbook/storage-local";
import { findPython, repoRoot } from "@labbook-internal/testing";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/lazyscribe");
const script = path.join(repoRoot, "tooling/python/make_repository_fixture.py");

interface Answers {
  now: string;
  artifacts: Array<{
    name: string;
    kind: "latest" | "int" | "date";
    q?: number | string;
    match?: "exact" | "asof";
    result: { version?: number; error?: string };
  }>;
  releases: Array<{ kind: "tag" | "date" | "latest"; q?: string; match?: "exact" | "asof"; tag?: string; error?: string }>;
}

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

async function tempCopy(from: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "labbook-repo-interop-"));
  temps.push(dir);
  await cp(from, dir, { recursive: true });
  return dir;
}

/** labbook's answers to the look-ups Python answered, in the same shape. */
async function answer(dir: string, answers: Answers) {
  const now = new Date(`${answers.now}Z`);
  const repo = await Repository.open("repository.json", { storage: new LocalStorage(dir), mode: "r", clock: () => now });
  const artifacts = answers.artifacts.map((q) => {
    let result: { version?: number; error?: string };
    try {
      result = { version: repo.getArtifactMetadata(q.name, q.kind === "latest" ? {} : { version: q.q, match: q.match }).version };
    } catch (error) {
      if (!isLabbookError(error)) throw error;
      result = { error: error.code };
    }
    return { ...q, result };
  });
  const releases = [];
  for (const q of answers.releases) {
    const { tag: _tag, error: _error, ...query } = q;
    try {
      const version = q.kind === "date" ? new Date(`${q.q}Z`) : q.q;
      const found = await repo.findRelease(version, q.match ? { match: q.match } : {});
      releases.push({ ...query, tag: found.tag });
    } catch (error) {
      if (!isLabbookError(error)) throw error;
      releases.push({ ...query, error: error.code });
    }
  }
  return { now: answers.now, artifacts, releases };
}

describe("a repository written by Python lazyscribe 2.2 (committed fixture)", () => {
  it("resolves every look-up as lazyscribe does", async () => {
    const answers = JSON.parse(await readFile(path.join(fixture, "answers.json"), "utf8")) as Answers;
    expect(answers.artifacts.length).toBeGreaterThan(100);
    expect(await answer(fixture, answers)).toEqual(answers);
  });

  it("writes repository.json and releases.json back byte for byte", async () => {
    const dir = await tempCopy(fixture);
    const storage = new LocalStorage(dir);
    const repo = await Repository.open("repository.json", { storage, mode: "w+" });
    const original = await readFile(path.join(dir, "repository.json"), "utf8");
    expect(repo.serialize()).toBe(original);
    // A real rewrite: change an expiry and set it back, then save.
    const before = repo.getArtifactMetadata("model", { version: 2 }).expiry;
    repo.setArtifactExpiry("model", { version: 2, expiry: "2030-01-01T00:00:00" });
    await repo.save();
    expect(await readFile(path.join(dir, "repository.json"), "utf8")).not.toBe(original);
    const again = await Repository.open("repository.json", { storage, mode: "w+" });
    expect(again.getArtifactMetadata("model", { version: 2 }).expiry).toBe("2030-01-01T00:00:00");
    expect(before).toBeNull();
    const releasesText = await readFile(path.join(dir, "releases.json"), "utf8");
    const { serializeReleases } = await import("@labbook/repository");
    expect(serializeReleases(await again.releases())).toBe(releasesText);
  });

  it("loads the JSON versions and refuses the pickle ones with a clear error", async () => {
    const repo = await Repository.open("repository.json", { storage: new LocalStorage(fixture), mode: "r", clock: () => new Date("2024-03-01T00:00:00Z") });
    expect(await repo.loadArtifact("model", { version: 3 })).toEqual({ weights: [0.3], note: "backdated" });
    expect(await repo.loadArtifact("features")).toEqual(["age", "income", "tenure"]);
    await expect(repo.loadArtifact("blob", { version: 0 })).rejects.toMatchObject({ code: "ARTIFACT_LOAD" });
    const diff = await repo.versionDiff("model", 0, 2);
    expect(diff).toContain('-{"weights": [0.1, 0.2], "note": "first"}');
    expect(diff).toContain('+{"weights": [0.2, 0.3], "note": "third", "alpha": 1.0}');
  });
});

describe("against live Python lazyscribe 2.2", () => {
  const python = findPython();
  it.skipIf(!python)("the script's fresh output matches the fixture and labbook's answers", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "labbook-repo-python-"));
    temps.push(dir);
    const { stdout } = await run(python as string, [script, dir]);
    const answers = JSON.parse(stdout) as Answers;
    for (const file of ["repository.json", "releases.json", "answers.json"]) {
      expect(await readFile(path.join(dir, file), "utf8")).toBe(await readFile(path.join(fixture, file), "utf8"));
    }
    expect(await answer(dir, answers)).toEqual(answers);
  });

  it.skipIf(!python)("Python reads what labbook wrote (new versions, expiry, a release)", async () => {
    const dir = await tempCopy(fixture);
    const storage = new LocalStorage(dir);
    const clock = () => new Date("2024-03-01T00:00:00Z");
    const repo = await Repository.open("repository.json", { storage, clock });
    repo.logArtifact("model", { weights: [0.9], note: "from labbook" }, { handler: "json" });
    repo.setArtifactExpiry("features", { version: 1, expiry: "2024-02-20T00:00:00" });
    await repo.save();
    await repo.createRelease("v2.0.0");
    const code = [
      "import json, sys",
      "from datetime import datetime",
      "from lazyscribe import Repository",
      "from lazyscribe import release as lzr",
      "repo = Repository('repository.json', mode='r')",
      "for a in repo.artifacts:",
      "    a.expiry = datetime.fromisoformat(a.expiry) if isinstance(a.expiry, str) else a.expiry",
      "m = repo._search_artifact_versions('model', '2024-03-01T00:00:00', 'asof')",
      "f = repo._search_artifact_versions('features', '2024-02-25T00:00:00', 'asof')",
      "rel = lzr.find_release(lzr.load(open('releases.json')), 'v2.0.0')",
      "print(json.dumps({'model': [m.version, repo.load_artifact('model', version=m.version)], 'features': f.version, 'release': rel.artifacts}))",
    ].join("\n");
    const { stdout } = await run(python as string, ["-c", code], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({
      model: [5, { weights: [0.9], note: "from labbook" }],
      features: 0,
      release: [
        ["blob", 0],
        ["features", 0],
        ["model", 5],
      ],
    });
  });
});
