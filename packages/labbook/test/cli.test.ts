import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject } from "../src/index.js";
import { cliPath, ensureBuilt, labbook, packageDir } from "./cli-helpers.js";

let tmp: string;
let runs: string;
const payload = randomBytes(3 * 1024 * 1024 + 17);
const lazyscribeFixture = path.resolve(packageDir, "../core/test/fixtures/lazyscribe");

/** Experiments are logged one second apart from `start` (default 2024-05-01T10:00:00), so slugs are predictable. */
async function makeProject(
  dir: string,
  runsToLog: Array<{ name: string; auc?: number; lr: number; tags: string[]; big?: boolean }>,
  start = Date.UTC(2024, 4, 1, 10, 0, 0),
) {
  let now = start;
  const project = await openProject(dir, { mode: "w", author: "ada", clock: () => new Date(now) });
  for (const [i, run] of runsToLog.entries()) {
    now = start + i * 1000;
    await project.log(run.name, async (exp) => {
      exp.logParameter("lr", run.lr);
      exp.logParameter("model", { kind: "gbm", depth: run.lr < 0.05 ? 6 : 3 });
      if (run.auc !== undefined) exp.logMetric("auc", run.auc);
      exp.logMetric("loss", 1 - (run.auc ?? 0.5));
      exp.tag(...run.tags);
      exp.logArtifact("config", { lr: run.lr }, { handler: "json" });
      if (run.big) exp.logArtifact("weights", payload, { handler: "bytes" });
      await exp.logTest("holdout", { description: "2024 customers" }, (test) => {
        test.logMetric("auc", (run.auc ?? 0.5) - 0.01);
        test.logArtifact(
          "confusion",
          [
            [1, 2],
            [3, 4],
          ],
          { handler: "json" },
        );
      });
    });
  }
  await project.save();
}

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "labbook-cli-"));
  runs = path.join(tmp, "runs");
  await makeProject(runs, [
    { name: "baseline", auc: 0.81, lr: 0.1, tags: ["baseline"] },
    { name: "deeper trees", auc: 0.92, lr: 0.1, tags: ["trees", "baseline"] },
    { name: "Lower learning rate", auc: 0.95, lr: 0.01, tags: ["trees"], big: true },
    { name: "no auc", lr: 0.5, tags: [] },
  ]);
}, 180_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Data rows of a plain-text table (the header line removed). */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((line) => line.split(/\s{2,}/));
}

describe("labbook (general)", () => {
  it("--help lists every command and exits 0", () => {
    const r = labbook(["--help"]);
    expect(r.code).toBe(0);
    for (const command of ["ls", "show", "compare", "artifact", "merge", "gc"]) expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(labbook(["artifact", "--help"]).stdout).toMatch(/get \[options\] <project> <slug> <name>/);
  });

  it("--version prints the package version", () => {
    const version = (JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string }).version;
    const r = labbook(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("exits 2 on usage errors: no command, unknown command, unknown option, missing argument", () => {
    for (const args of [[], ["frobnicate"], ["ls", runs, "--colour"], ["ls"], ["show", runs]]) {
      const r = labbook(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(labbook(["ls", runs, "--colour"]).stderr).toMatch(/unknown option '--colour'/);
  });

  it("a missing project exits 1 with the typed error's message and code, no stack; --debug adds the stack", () => {
    const missing = path.join(tmp, "nowhere");
    const r = labbook(["ls", missing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`No project at ${path.join(missing, "project.json")}`);
    expect(r.stderr).toContain("[NOT_FOUND]");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const debug = labbook(["ls", missing, "--debug"]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/LabbookError: No project at[\s\S]*\n\s+at /);
  });

  it("an unsupported URL scheme exits 1 naming the location", () => {
    const r = labbook(["ls", "ftp://example.invalid/runs"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ftp://example.invalid/runs");
    expect(r.stderr).toContain("[UNSUPPORTED]");
  });
});

describe("labbook ls", () => {
  it("prints a plain table (no box drawing) when stdout is not a terminal", () => {
    const r = labbook(["ls", runs]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toMatch(/[─│┌┐└┘+|]/);
    const [header] = r.stdout.split("\n");
    expect(header?.split(/\s{2,}/)).toEqual(["short_slug", "created_at", "author", "tags", "metrics.auc", "metrics.loss", "parameters.lr", "parameters.model"]);
    expect(rows(r.stdout).map((row) => row.slice(0, 3))).toEqual([
      ["baseline", "2024-05-01T10:00:00", "ada"],
      ["deeper-trees", "2024-05-01T10:00:01", "ada"],
      ["lower-learning-rate", "2024-05-01T10:00:02", "ada"],
      ["no-auc", "2024-05-01T10:00:03", "ada"],
    ]);
    expect(rows(r.stdout)[2]).toEqual(["lower-learning-rate", "2024-05-01T10:00:02", "ada", "trees", "0.95", "0.05", "0.01", '{"depth":6,"kind":"gbm"}']);
  });

  it("accepts the project.json path and a file:// URL", () => {
    const byFile = labbook(["ls", path.join(runs, "project.json"), "--json"]);
    const byUrl = labbook(["ls", pathToFileURL(runs).href, "--json"]);
    expect(byFile.code).toBe(0);
    expect(byUrl.code).toBe(0);
    expect(JSON.parse(byFile.stdout)).toHaveLength(4);
    expect(byUrl.stdout).toBe(byFile.stdout);
  });

  it("--filter, --sort, --columns and --limit", () => {
    const r = labbook([
      "ls",
      runs,
      "--filter",
      "metrics.auc>0.9 and tags has baseline or parameters.lr = 0.01",
      "--sort",
      "-metrics.auc",
      "--columns",
      "metrics.auc,parameters.model.depth",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]?.split(/\s{2,}/)).toEqual(["short_slug", "created_at", "author", "tags", "metrics.auc", "parameters.model.depth"]);
    expect(rows(r.stdout)).toEqual([
      ["lower-learning-rate", "2024-05-01T10:00:02", "ada", "trees", "0.95", "6"],
      ["deeper-trees", "2024-05-01T10:00:01", "ada", "trees, baseline", "0.92", "3"],
    ]);
    const limited = labbook(["ls", runs, "--sort", "metrics.auc", "--limit", "2", "--json"]);
    expect(JSON.parse(limited.stdout).map((e: { short_slug: string }) => e.short_slug)).toEqual(["baseline", "deeper-trees"]);
    // Absent values sort last in both directions.
    const desc = labbook(["ls", runs, "--sort", "-metrics.auc", "--json"]);
    expect(JSON.parse(desc.stdout).map((e: { short_slug: string }) => e.short_slug)).toEqual(["lower-learning-rate", "deeper-trees", "baseline", "no-auc"]);
    const negated = labbook(["ls", runs, "--filter", 'not (tags has "trees") and author = ada', "--json"]);
    expect(JSON.parse(negated.stdout).map((e: { short_slug: string }) => e.short_slug)).toEqual(["baseline", "no-auc"]);
    const none = labbook(["ls", runs, "--filter", "metrics.auc > 2"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("No experiments match (of 4)");
  });

  it("--json has the documented shape", () => {
    const r = labbook(["ls", runs, "--json", "--filter", "short_slug = baseline"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        slug: "baseline-20240501100000",
        short_slug: "baseline",
        name: "baseline",
        author: "ada",
        created_at: "2024-05-01T10:00:00",
        last_updated: "2024-05-01T10:00:00",
        tags: ["baseline"],
        metrics: { auc: 0.81, loss: expect.closeTo(0.19, 10) },
        parameters: { lr: 0.1, model: { kind: "gbm", depth: 3 } },
      },
    ]);
  });

  it("bad --filter, --sort, --columns and --limit values exit 2 before opening anything", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--filter", "metrics.auc >"], /Bad filter at column 14: expected a value/],
      [["--filter", "metrix.auc > 1"], /unknown field "metrix"/],
      [["--filter", "metrics.auc > 1 and"], /expected a field/],
      [["--filter", "(metrics.auc > 1"], /expected "\)"/],
      [["--filter", "tags has 'x"], /never closed/],
      [["--sort", "-nope"], /--sort: "nope" is not a field\. Use metrics\.nope/],
      [["--columns", "metrics"], /name the metric/],
      [["--limit", "0"], /--limit takes a positive whole number/],
      [["--limit", "ten"], /--limit takes a positive whole number/],
    ];
    for (const [args, message] of cases) {
      // A missing project shows the arguments are checked first (otherwise this would be exit 1).
      const r = labbook(["ls", path.join(tmp, "nowhere"), ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }
  });

  it("reads a project written by Python lazyscribe 2.2", () => {
    const r = labbook(["ls", path.join(lazyscribeFixture, "project.json"), "--columns", "metrics.accuracy", "--json"]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ slug: string; tags: string[] }>;
    expect(list.map((e) => e.slug)).toEqual(["baseline-20240102030405", "modele-cafe-20240203040506", "baseline-20240304050607"]);
    expect(list[1]?.tags).toEqual(["café", "🔥"]);
  });
});

describe("labbook show", () => {
  it("prints metrics, parameters, tags, artifacts (name, handler, size, version), tests and dependencies", () => {
    const r = labbook(["show", runs, "lower-learning-rate"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Lower learning rate (lower-learning-rate-20240501100002)");
    expect(r.stdout).toMatch(/tags:\s+trees/);
    expect(r.stdout).toMatch(/^\s+auc\s+0\.95$/m);
    expect(r.stdout).toMatch(/^\s+lr\s+0\.01$/m);
    expect(r.stdout).toMatch(/^\s+weights\s+bytes\s+3\.0 MiB\s+0\s+weights-20240501100002\.bin$/m);
    expect(r.stdout).toMatch(/^\s+holdout - 2024 customers$/m);
    expect(r.stdout).toMatch(/^\s+confusion\s+json\s+\d+ B\s+0\s+confusion-20240501100002\.json$/m);
  });

  it("--json has the documented shape, with sizes from the entry or the storage", () => {
    const r = labbook(["show", runs, "lower-learning-rate-20240501100002", "--json"]);
    expect(r.code).toBe(0);
    const details = JSON.parse(r.stdout);
    expect(Object.keys(details).sort()).toEqual(
      [
        "slug",
        "short_slug",
        "name",
        "author",
        "created_at",
        "last_updated",
        "last_updated_by",
        "tags",
        "dependencies",
        "metrics",
        "parameters",
        "location",
        "artifacts",
        "tests",
      ].sort(),
    );
    const weights = details.artifacts.find((a: { name: string }) => a.name === "weights");
    expect(weights).toEqual({
      name: "weights",
      handler: "bytes",
      version: 0,
      fname: "weights-20240501100002.bin",
      size: payload.byteLength,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      created_at: "2024-05-01T10:00:02",
      expiry: null,
      path: path.join(runs, "lower-learning-rate-20240501100002", "weights-20240501100002.bin"),
    });
    expect(details.tests).toEqual([
      {
        name: "holdout",
        description: "2024 customers",
        metrics: { auc: expect.closeTo(0.94, 10) },
        parameters: {},
        artifacts: [
          expect.objectContaining({
            name: "confusion",
            handler: "json",
            path: path.join(runs, "lower-learning-rate-20240501100002", "holdout", "confusion-20240501100002.json"),
          }),
        ],
      },
    ]);
  });

  it("shows a lazyscribe experiment: dependencies, an unknown handler, sizes read from storage", () => {
    const r = labbook(["show", lazyscribeFixture, "modele-cafe", "--json"]);
    expect(r.code).toBe(0);
    const details = JSON.parse(r.stdout);
    expect(details.dependencies).toEqual(["upstream.json|feature-build-20240101000000"]);
    const model = details.artifacts.find((a: { name: string }) => a.name === "model");
    expect(model.handler).toBe("pickle");
    expect(model.size).toBe(readFileSync(path.join(lazyscribeFixture, "modele-cafe-20240203040506", model.fname)).byteLength);
    const text = labbook(["show", lazyscribeFixture, "modele-cafe"]);
    expect(text.stdout).toMatch(/Dependencies:\n\s+upstream\.json\|feature-build-20240101000000/);
  });

  it("an unknown slug exits 1 with NOT_FOUND", () => {
    const r = labbook(["show", runs, "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No experiment "nope" in .*project\.json.*\[NOT_FOUND\]/);
  });
});

describe("labbook compare", () => {
  it("puts parameters and metrics side by side and marks the differences", () => {
    const r = labbook(["compare", runs, "baseline", "deeper-trees"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]?.trim().split(/\s{2,}/)).toEqual(["field", "baseline", "deeper-trees"]);
    expect(lines).toContainEqual(expect.stringMatching(/^\s+parameters\.lr\s+0\.1\s+0\.1$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\*\s+metrics\.auc\s+0\.81\s+0\.92$/));
    expect(lines.at(-1)).toMatch(/differs \(2 of 4\)/);
  });

  it("--json and --differences; absent values are null", () => {
    const r = labbook(["compare", runs, "baseline", "no-auc", "--json", "--differences"]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.experiments.map((e: { slug: string }) => e.slug)).toEqual(["baseline-20240501100000", "no-auc-20240501100003"]);
    expect(result.rows).toEqual([
      { field: "parameters.lr", values: [0.1, 0.5], differs: true },
      { field: "metrics.auc", values: [0.81, null], differs: true },
      { field: "metrics.loss", values: [expect.closeTo(0.19, 10), 0.5], differs: true },
    ]);
  });

  it("one experiment is a usage error (2); an unknown one is NOT_FOUND (1)", () => {
    expect(labbook(["compare", runs, "baseline"]).code).toBe(2);
    const r = labbook(["compare", runs, "baseline", "ghost"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No experiment "ghost"');
  });
});

describe("labbook artifact get", () => {
  it("streams the stored bytes to stdout, with nothing on stderr when it is not a terminal", () => {
    const r = labbook(["artifact", "get", runs, "lower-learning-rate", "weights"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.bytes.equals(payload)).toBe(true);
    const test = labbook(["artifact", "get", runs, "baseline", "confusion", "--test", "holdout"]);
    expect(test.stderr).toBe("");
    expect(test.code).toBe(0);
    expect(JSON.parse(test.stdout)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it("--out writes a file; a lazyscribe pickle comes out byte for byte", () => {
    const out = path.join(tmp, "weights.bin");
    const r = labbook(["artifact", "get", runs, "lower-learning-rate", "weights", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(out).equals(payload)).toBe(true);
    const model = path.join(tmp, "model.pkl");
    expect(labbook(["artifact", "get", lazyscribeFixture, "modele-cafe", "model", "-o", model]).code).toBe(0);
    expect(readFileSync(model).equals(readFileSync(path.join(lazyscribeFixture, "modele-cafe-20240203040506", "model-20240203041000.pkl")))).toBe(true);
  });

  it("a missing artifact, test or file exits 1 with a clear message", () => {
    const r = labbook(["artifact", "get", runs, "baseline", "weights"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has no artifact named "weights". It has: config');
    expect(labbook(["artifact", "get", runs, "baseline", "confusion", "--test", "nope"]).stderr).toContain('no test named "nope"');
    const copy = path.join(tmp, "deleted-file");
    cpSync(runs, copy, { recursive: true });
    rmSync(path.join(copy, "baseline-20240501100000", "config-20240501100000.json"));
    const gone = labbook(["artifact", "get", copy, "baseline", "config"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/Cannot read artifact "config".*\[ARTIFACT_LOAD\]/);
  });

  it("a changed file fails the sha256 check and leaves no --out file behind", () => {
    const copy = path.join(tmp, "tampered");
    cpSync(runs, copy, { recursive: true });
    const file = path.join(copy, "lower-learning-rate-20240501100002", "weights-20240501100002.bin");
    const bytes = readFileSync(file);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const out = path.join(tmp, "tampered.bin");
    const r = labbook(["artifact", "get", copy, "lower-learning-rate", "weights", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("does not match the sha256");
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes("partial"))).toEqual([]);
  });
});

describe("labbook merge", () => {
  it("merges two projects into a third, copying artifact files so the result stands alone", async () => {
    const other = path.join(tmp, "other");
    await makeProject(other, [{ name: "from other", auc: 0.7, lr: 0.2, tags: ["other"] }], Date.UTC(2024, 5, 1));
    const into = path.join(tmp, "merged");
    const r = labbook(["merge", runs, other, "--into", into, "--json"]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toEqual({
      into: path.join(into, "project.json"),
      experiments: 5,
      sources: [
        { path: path.join(runs, "project.json"), experiments: 4 },
        { path: path.join(other, "project.json"), experiments: 1 },
      ],
      // config + test confusion for each, plus the weights file
      copied_files: 11,
    });
    const merged = await openProject(into, { mode: "r" });
    expect(merged.experiments.map((e) => e.shortSlug)).toEqual(["baseline", "deeper-trees", "lower-learning-rate", "no-auc", "from-other"]);
    // Remove the sources: the merged project must not need them.
    const moved = path.join(tmp, "runs-moved");
    cpSync(runs, moved, { recursive: true });
    rmSync(runs, { recursive: true });
    try {
      const got = labbook(["artifact", "get", into, "lower-learning-rate", "weights"]);
      expect(got.code).toBe(0);
      expect(got.bytes.equals(payload)).toBe(true);
      expect(labbook(["gc", into, "--min-age", "0", "--json"]).stdout).toContain('"files": []');
    } finally {
      cpSync(moved, runs, { recursive: true });
    }
  });

  it("merging into an existing project keeps its experiments", async () => {
    const a = path.join(tmp, "merge-a");
    const b = path.join(tmp, "merge-b");
    await makeProject(a, [{ name: "a1", lr: 0.1, tags: [] }], Date.UTC(2024, 6, 1));
    await makeProject(b, [{ name: "b1", lr: 0.1, tags: [] }], Date.UTC(2024, 6, 2));
    const r = labbook(["merge", a, b, "--into", a]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Merged 2 experiments .* into .*merge-a.project\.json; copied 2 artifact files\.$/m);
    const merged = await openProject(a, { mode: "r" });
    expect(merged.experiments.map((e) => e.shortSlug)).toEqual(["a1", "b1"]);
    expect(await merged.get("b1").loadArtifact("config")).toEqual({ lr: 0.1 });
  });

  it("without --into exits 2; a missing source exits 1 and writes nothing", () => {
    const r = labbook(["merge", runs, runs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--into");
    const into = path.join(tmp, "never");
    const missing = labbook(["merge", runs, path.join(tmp, "nope"), "--into", into]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No project at");
    expect(existsSync(into)).toBe(false);
  });
});

describe("labbook gc", () => {
  it("lists files no index names, and --delete removes only those", () => {
    const copy = path.join(tmp, "gc");
    cpSync(runs, copy, { recursive: true });
    mkdirSync(path.join(copy, "dropped-20230101000000"));
    writeFileSync(path.join(copy, "dropped-20230101000000", "model.bin"), "old");
    writeFileSync(path.join(copy, "baseline-20240501100000", "stray.txt"), "stray!");
    writeFileSync(path.join(copy, "notes.txt"), "top-level files are never candidates");
    const listed = labbook(["gc", copy, "--min-age", "0", "--json"]);
    expect(listed.code).toBe(0);
    const result = JSON.parse(listed.stdout);
    expect(result.deleted).toBe(false);
    expect(result.files.map((f: { key: string; size: number }) => [f.key, f.size])).toEqual([
      ["baseline-20240501100000/stray.txt", 6],
      ["dropped-20230101000000/model.bin", 3],
    ]);
    const text = labbook(["gc", copy, "--min-age", "0"]);
    expect(text.stdout).toContain(path.join(copy, "dropped-20230101000000", "model.bin"));
    expect(text.stderr).toContain("Found 2 unreferenced file(s), 9 B; run again with --delete");
    // The default --min-age of an hour leaves fresh files alone: they may belong to a save in progress.
    const young = labbook(["gc", copy, "--delete", "--json"]);
    expect(JSON.parse(young.stdout)).toMatchObject({ deleted: true, skipped_recent: 2, files: [] });
    expect(existsSync(path.join(copy, "baseline-20240501100000", "stray.txt"))).toBe(true);
    const deleted = labbook(["gc", copy, "--delete", "--min-age", "0"]);
    expect(deleted.code).toBe(0);
    expect(deleted.stderr).toContain("Deleted 2 unreferenced file(s)");
    expect(existsSync(path.join(copy, "baseline-20240501100000", "stray.txt"))).toBe(false);
    expect(existsSync(path.join(copy, "dropped-20230101000000", "model.bin"))).toBe(false);
    expect(existsSync(path.join(copy, "notes.txt"))).toBe(true);
    expect(labbook(["ls", copy, "--json"]).code).toBe(0);
    expect(labbook(["artifact", "get", copy, "lower-learning-rate", "weights"]).bytes.equals(payload)).toBe(true);
  });

  it("finds nothing in the lazyscribe fixture (test folders, sub-folder file names, a sibling project)", () => {
    const r = labbook(["gc", lazyscribeFixture, "--min-age", "0", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files).toEqual([]);
  });

  it("a bad --min-age exits 2", () => {
    expect(labbook(["gc", runs, "--min-age", "soon"]).code).toBe(2);
  });
});

describe("labbook repo", () => {
  let repo: string;
  beforeAll(() => {
    repo = path.join(tmp, "models");
  });

  it("promote copies an experiment's artifact in as the next version; an older one is refused", () => {
    const first = labbook(["repo", "promote", repo, runs, "baseline", "config"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`Promoted "config" of baseline-20240501100000 to ${path.join(repo, "repository.json")} as version 0.\n`);
    const second = labbook(["repo", "promote", repo, runs, "lower-learning-rate", "config", "--json"]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ version: 1, created_at: "2024-05-01T10:00:02", handler: "json", expired: false });
    const older = labbook(["repo", "promote", repo, runs, "deeper-trees", "config"]);
    expect(older.code).toBe(1);
    expect(older.stderr).toMatch(/is not newer than the latest version.*\[ARTIFACT_LOG\]/);
  });

  it("ls and history, as text and --json", () => {
    const ls = labbook(["repo", "ls", repo, "--json"]);
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual([
      {
        name: "config",
        versions: 2,
        latest: {
          version: 1,
          created_at: "2024-05-01T10:00:02",
          expiry: null,
          expired: false,
          handler: "json",
          fname: "config-20240501100002.json",
          size: expect.any(Number),
        },
      },
    ]);
    expect(labbook(["repo", "ls", repo]).stdout).toMatch(/^config\s+1\s+2024-05-01T10:00:02\s+json\s+\d+ B\s+2$/m);
    const history = labbook(["repo", "history", repo, "config", "--json"]);
    expect(JSON.parse(history.stdout).map((v: { version: number; created_at: string }) => [v.version, v.created_at])).toEqual([
      [0, "2024-05-01T10:00:00"],
      [1, "2024-05-01T10:00:02"],
    ]);
    const unknown = labbook(["repo", "history", repo, "weights"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No artifact named "weights"');
  });

  it("get: latest, by number, as of a date; bad usage exits 2", () => {
    expect(JSON.parse(labbook(["repo", "get", repo, "config"]).stdout)).toEqual({ lr: 0.01 });
    expect(JSON.parse(labbook(["repo", "get", repo, "config", "--at", "0"]).stdout)).toEqual({ lr: 0.1 });
    expect(JSON.parse(labbook(["repo", "get", repo, "config", "--at", "2024-05-01T10:00:01", "--asof"]).stdout)).toEqual({ lr: 0.1 });
    const out = path.join(tmp, "config.json");
    expect(labbook(["repo", "get", repo, "config", "--at", "1", "--out", out]).code).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual({ lr: 0.01 });
    const missing = labbook(["repo", "get", repo, "config", "--at", "7"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("[VERSION_NOT_FOUND]");
    expect(labbook(["repo", "get", repo, "config", "--asof"]).code).toBe(2);
  });

  it("release creates and lists releases; a repeated tag is refused", () => {
    const created = labbook(["repo", "release", repo, "v1", "--json"]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ tag: "v1", artifacts: [{ name: "config", version: 1 }] });
    const list = labbook(["repo", "release", repo, "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([
      { tag: "v1", created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/), artifacts: [{ name: "config", version: 1 }] },
    ]);
    expect(labbook(["repo", "release", repo]).stdout).toMatch(/^v1\s+\S+\s+config v1$/m);
    const again = labbook(["repo", "release", repo, "v1"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Release "v1" already exists');
  });

  it("diff prints a unified diff of two text versions", () => {
    const r = labbook(["repo", "diff", repo, "config", "0", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--- config/config-20240501100000.json\tversion 0 (2024-05-01T10:00:00)");
    expect(r.stdout).toMatch(/^-.*"lr": 0\.1\b/m);
    expect(r.stdout).toMatch(/^\+.*"lr": 0\.01\b/m);
    expect(labbook(["repo", "diff", repo, "config"]).code).toBe(2);
  });

  it("a missing repository exits 1", () => {
    const r = labbook(["repo", "ls", path.join(tmp, "no-repo")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-repo.repository\.json/);
  });
});

const script = spawnSync("script", ["--version"]).status === 0;

describe.skipIf(!script && process.env.CI !== "true")("on a terminal", () => {
  // util-linux `script` gives the command a pseudo-terminal, as a user's shell would.
  const onTty = (command: string) => spawnSync("script", ["-qec", command, "/dev/null"], { encoding: "utf8", env: { ...process.env, COLUMNS: "200" } });

  it("tables are drawn with lines", () => {
    const r = onTty(`node ${JSON.stringify(cliPath)} ls ${JSON.stringify(runs)} --columns metrics.auc`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("┌─");
    expect(r.stdout).toMatch(/│ baseline\s+│ 2024-05-01T10:00:00 │ ada\s+│ baseline\s+│ 0\.81\s+│/);
  });

  it("artifact get shows a progress bar on stderr for a large artifact, and the file is intact", () => {
    const out = path.join(tmp, "tty-weights.bin");
    const r = onTty(`node ${JSON.stringify(cliPath)} artifact get ${JSON.stringify(runs)} lower-learning-rate weights --out ${JSON.stringify(out)}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/weights \[.*\] 100% 3\.1\/3\.1 MB/);
    expect(r.stdout).not.toMatch(/3145745\/3145745/);
    expect(readFileSync(out).equals(payload)).toBe(true);
  });
});

describe("labbook deps and --registry", () => {
  it("deps prints each experiment's upstream tree; --json is the dependency graph", () => {
    const r = labbook(["deps", lazyscribeFixture]);
    expect(r.code).toBe(0);
    const upstream = path.join(lazyscribeFixture, "upstream.json");
    expect(r.stdout).toBe(
      [
        "modele-cafe-20240203040506",
        `└─ feature-build-20240101000000  (${upstream})`,
        "baseline-20240304050607",
        `└─ feature-build-20240101000000  (${upstream})`,
        "",
      ].join("\n"),
    );
    const graph = JSON.parse(labbook(["deps", lazyscribeFixture, "--json"]).stdout);
    expect(Object.keys(graph).sort()).toEqual(["cycles", "edges", "missing", "nodes", "projects"]);
    expect(graph.projects).toEqual([path.join(lazyscribeFixture, "project.json"), upstream]);
    expect(graph.edges).toHaveLength(2);
    expect(graph.missing).toEqual([]);
  });

  it("deps reports dependencies that do not resolve", () => {
    const copy = path.join(tmp, "no-upstream");
    cpSync(lazyscribeFixture, copy, { recursive: true });
    rmSync(path.join(copy, "upstream.json"));
    const r = labbook(["deps", copy]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/└─ MISSING upstream\.json\|feature-build-20240101000000: .*upstream\.json/);
    expect(r.stdout).toContain("2 dependency(ies) did not resolve.");
    expect(JSON.parse(labbook(["deps", copy, "--json"]).stdout).missing).toHaveLength(2);
  });

  it("--registry (or LABBOOK_REGISTRY) makes registered names work as locations", () => {
    const dir = path.join(tmp, "registry");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "labbook.registry.json");
    writeFileSync(file, JSON.stringify({ version: 1, projects: { runs: path.relative(dir, runs) }, repositories: { models: path.join(tmp, "models") } }));
    const ls = labbook(["--registry", file, "ls", "runs", "--json"]);
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout)).toHaveLength(4);
    const repo = labbook(["repo", "ls", "models", "--json"], { env: { LABBOOK_REGISTRY: file } });
    expect(repo.code).toBe(0);
    expect(JSON.parse(repo.stdout)[0].name).toBe("config");
    const unknown = labbook(["show", "nothing", "baseline", "--registry", file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("No project at");
    const badFile = labbook(["--registry", path.join(dir, "missing.json"), "ls", "runs"]);
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toContain("missing.json");
  });
});
