/**
 * lazyscribe 2.2.1's own test data files (test/fixtures/lazyscribe-2.2.1-tests, MIT, see its README;
 * another folder with LABBOOK_LAZYSCRIBE_TESTS) and variants of them made here (fields lazyscribe defaults left out,
 * year-1 and date-only dates, experiments out of order, one slug stored twice). Each file is opened
 * in every mode by Python lazyscribe (tooling/python/replay_fixture.py) and by labbook, and both
 * must agree on what the project holds, what each slug and short slug looks up, and what a save
 * writes. The one intended difference: labbook keeps fields it does not know (design.md), where
 * lazyscribe drops them; such fields must come from the original file, never be invented.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findPython, repoRoot, runPython } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStorage, Project, type ProjectMode, parsePyJson, Repository } from "../src/index.js";

const FIXTURES = process.env.LABBOOK_LAZYSCRIBE_TESTS ?? fileURLToPath(new URL("./fixtures/lazyscribe-2.2.1-tests/", import.meta.url));
const SCRIPT = path.join(repoRoot, "tooling/python/replay_fixture.py");
const NOW = "2024-06-01T00:00:00";
const READER = "fixture-reader";
const python = findPython();
const decoder = new TextDecoder();

type Json = Record<string, unknown>;
type Replayed = Record<string, { experiments?: Json[]; artifacts?: Json[]; lookups?: Record<string, number>; saved?: Json[] }>;

if (!existsSync(FIXTURES)) throw new Error(`lazyscribe's test files are missing at ${FIXTURES}`);

/** Fields lazyscribe fills in when they are missing. */
const EXPERIMENT_DEFAULTED = ["author", "last_updated_by", "metrics", "parameters", "dependencies", "short_slug", "slug", "tags", "tests", "artifacts"];

function variants(name: string, text: string): Array<[string, string]> {
  const data = JSON.parse(text) as Json[];
  const out: Array<[string, string]> = [[name, text]];
  const copy = () => JSON.parse(text) as Json[];
  // Every field lazyscribe can default, left out (its loader needs only name, created_at, last_updated).
  const stripped = copy().map((e) => {
    // lazyscribe's loader reads the slug of an experiment with tests (for the tests' folder), so it stays there.
    const keep = ["tests", "artifacts", ...((e.tests as Json[] | undefined)?.length ? ["slug"] : [])];
    for (const key of EXPERIMENT_DEFAULTED) if (!keep.includes(key)) delete e[key];
    for (const t of (e.tests as Json[] | undefined) ?? []) {
      delete t.description;
      delete t.metrics;
      delete t.parameters;
      for (const a of (t.artifacts as Json[] | undefined) ?? []) {
        delete a.expiry;
        delete a.version;
        delete a.fname;
      }
    }
    return e;
  });
  out.push([`stripped-${name}`, JSON.stringify(stripped)]);
  if (data.length > 0) {
    // Python's datetime.min (year 1) and a date without a time, with the slugs left to be derived.
    const yearOne = copy();
    Object.assign(yearOne[0] as Json, { created_at: "0001-01-01T00:00:00", last_updated: "0001-01-01T00:00:00" });
    if (!(yearOne[0] as Json & { tests: unknown[] }).tests.length) delete (yearOne[0] as Json).slug;
    out.push([`year-one-${name}`, JSON.stringify(yearOne)]);
    const dateOnly = copy();
    Object.assign(dateOnly[0] as Json, { created_at: "2021-12-31", last_updated: "2021-12-31 10:11" });
    if (!(dateOnly[0] as Json & { tests: unknown[] }).tests.length) delete (dateOnly[0] as Json).slug;
    out.push([`date-only-${name}`, JSON.stringify(dateOnly)]);
    // Out of order, and one slug stored twice (the later copy updated later), plus a second run of a name.
    const first = data[0] as Json;
    const twice = [{ ...first, last_updated: "2023-03-03T03:03:03", metrics: { twice: 1 } }, ...copy().reverse(), first];
    twice.push({ ...first, created_at: "2020-01-01T00:00:00", slug: `${String(first.short_slug)}-20200101000000` });
    out.push([`shuffled-${name}`, JSON.stringify(twice)]);
  }
  return out;
}

function fixtureFiles(folder: string): Array<[string, string]> {
  const dir = path.join(FIXTURES, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [f, readFileSync(path.join(dir, f), "utf8")]);
}

/**
 * `ours` seen through `theirs`' keys. Keys only labbook has are collected in `extra` (they must be
 * kept from the file, not invented); keys only Python has stay missing, so toEqual reports them.
 */
function through(ours: unknown, theirs: unknown, where: string, extra: string[]): unknown {
  if (Array.isArray(ours) && Array.isArray(theirs)) return ours.map((v, i) => through(v, theirs[i], `${where}[${i}]`, extra));
  if (ours && theirs && typeof ours === "object" && typeof theirs === "object" && !Array.isArray(ours) && !Array.isArray(theirs)) {
    const out: Json = {};
    for (const [k, v] of Object.entries(ours as Json)) {
      if (k in (theirs as Json)) out[k] = through(v, (theirs as Json)[k], `${where}.${k}`, extra);
      else extra.push(`${where}.${k}`);
    }
    return out;
  }
  return ours;
}

/** labbook's own documented additions to an artifact entry it writes (design.md). */
const LABBOOK_FIELDS = new Set(["size", "sha256"]);

/** Every other extra key labbook kept is in the original file (e.g. python_version of a json artifact). */
function expectKeptFromFile(extra: string[], original: string): void {
  for (const key of extra) {
    const field = key.split(".").at(-1) ?? key;
    if (!LABBOOK_FIELDS.has(field)) expect(original, `labbook invented ${key}`).toContain(`"${field}"`);
  }
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "labbook-lazyscribe-fixtures-"));
  // lazyscribe defaults a missing author to the reading user (getpass.getuser()); labbook to LABBOOK_AUTHOR or the user.
  process.env.LABBOOK_AUTHOR = READER;
});
afterAll(async () => {
  delete process.env.LABBOOK_AUTHOR;
  await rm(work, { recursive: true, force: true });
});

async function replay(kind: "project" | "repository", name: string, text: string): Promise<Replayed> {
  // down-project.json names "tests/data/project.json": lazyscribe resolves it from its working folder.
  const dir = path.join(work, kind, name);
  const data = path.join(dir, "tests/data");
  await mkdir(data, { recursive: true });
  for (const [f, t] of fixtureFiles("data")) await writeFile(path.join(data, f), t);
  await writeFile(path.join(data, name), text);
  const out = await runPython(SCRIPT, [kind, `tests/data/${name}`, "out", NOW], { cwd: dir, env: { USER: READER, LOGNAME: READER } });
  return parsePyJson(out) as Replayed;
}

const clock = () => new Date(`${NOW}Z`);

describe.runIf(python)("lazyscribe 2.2.1's own files: labbook does what lazyscribe does", () => {
  const projects = fixtureFiles("data").flatMap(([name, text]) => variants(name, text));
  const repositories = fixtureFiles("repository_data").flatMap(([name, text]) => {
    const stripped = (JSON.parse(text) as Json[]).map(({ expiry: _e, version: _v, fname: _f, ...rest }) => rest);
    return [
      [name, text],
      [`stripped-${name}`, JSON.stringify(stripped)],
    ] as Array<[string, string]>;
  });

  it("has the files to replay", () => {
    expect(projects.length).toBe(6 * 5);
    expect(repositories.length).toBe(2);
  });

  it.each(projects)("%s in every mode", async (name, text) => {
    const replayed = await replay("project", name, text);
    for (const mode of ["r", "a", "w", "w+"] as ProjectMode[]) {
      const theirs = replayed[mode];
      if (!theirs) throw new Error(`no replay for mode ${mode}`);
      const storage = new MemoryStorage();
      await storage.write(`tests/data/${name}`, text);
      const project = await Project.open(`tests/data/${name}`, { storage, mode, author: "replayer", clock });
      const extra: string[] = [];
      const records = project.experiments.map((e) => e.record);
      expect(through(records, theirs.experiments, "", extra), `${name} ${mode}: experiments`).toEqual(theirs.experiments);
      for (const e of project.experiments) expect(e.createdAt.getTime(), `${e.slug} created_at`).not.toBeNaN();
      const lookups = Object.fromEntries(Object.keys(theirs.lookups ?? {}).map((key) => [key, project.experiments.indexOf(project.get(key))]));
      expect(lookups, `${name} ${mode}: look-ups`).toEqual(theirs.lookups);
      if (mode !== "r") {
        if (mode === "w+") for (const e of project.experiments) e.tests[0]?.logMetric("probe", 1);
        await project.log("probe", (exp) => exp.logMetric("probe", 2));
        await project.save();
        const saved = parsePyJson(decoder.decode(await storage.read(`tests/data/${name}`)));
        expect(through(saved, theirs.saved, "", extra), `${name} ${mode}: saved file`).toEqual(theirs.saved);
      }
      expectKeptFromFile(extra, text);
    }
  });

  it.each(repositories)("repository %s in every mode", async (name, text) => {
    const replayed = await replay("repository", name, text);
    for (const mode of ["r", "w", "w+"] as const) {
      const theirs = replayed[mode];
      if (!theirs) throw new Error(`no replay for mode ${mode}`);
      const storage = new MemoryStorage();
      await storage.write(`tests/data/${name}`, text);
      const repository = await Repository.open(`tests/data/${name}`, { storage, mode, clock });
      const extra: string[] = [];
      expect(through(repository.entries, theirs.artifacts, "", extra), `${name} ${mode}: artifacts`).toEqual(theirs.artifacts);
      if (mode !== "r") {
        repository.logArtifact("probe", { a: 1 }, { handler: "json" });
        await repository.save();
        const saved = parsePyJson(decoder.decode(await storage.read(`tests/data/${name}`)));
        expect(through(saved, theirs.saved, "", extra), `${name} ${mode}: saved file`).toEqual(theirs.saved);
      }
      expectKeptFromFile(extra, text);
    }
  });
});
