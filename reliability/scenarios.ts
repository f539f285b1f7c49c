/**
 * The reliability scenarios, shared by the CI tests (short settings) and `pnpm reliability` (full
 * settings). Each returns figures; none decides pass or fail itself, so the tests assert on them.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { dirnameKey, joinKey, parsePyJson, type Storage } from "../packages/core/src/index.js";
import { validateFile } from "../packages/core/src/internal.js";
import { projectFileSchema, repositoryFileSchema } from "../packages/core/src/schemas-entry.js";
import { LocalStorage } from "../packages/storage-local/src/index.js";
import { checkStored, exited, openStorage, repoRoot, type StorageSpec, startWorker, tally } from "./common.js";
import type { RepoWorkerArgs } from "./repo-worker.js";
import type { WorkerArgs } from "./worker.js";

export interface ConcurrencyFigures {
  writers: number;
  written: number;
  found: number;
  lost: number;
  duplicated: number;
  /** Reads of the project file taken while the writers ran that did not parse or validate. */
  tornReads: number;
  reads: number;
  brokenArtifacts: number;
  /** Saves that gave up with CONFLICT and were called again by the worker. */
  conflicts: number;
  ms: number;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `labbook-${prefix}-`));
}

/** `writers` processes each log and save `perWriter` experiments into one project on local disk. */
export async function concurrencyLocal(options: { writers: number; perWriter: number; root?: string }): Promise<ConcurrencyFigures> {
  const root = options.root ?? (await tempDir("concurrency"));
  try {
    return await concurrency({ writers: options.writers, perWriter: options.perWriter, storage: { kind: "local", root } });
  } finally {
    if (!options.root) await rm(root, { recursive: true, force: true });
  }
}

/** Start one process per writer and collect the conflict counts they report. */
function startWriters(script: string, argsFor: (writer: number) => unknown, writers: number): { children: ChildProcess[]; conflicts: () => number } {
  let conflicts = 0;
  const children: ChildProcess[] = [];
  for (let w = 0; w < writers; w++) {
    const child = startWorker(script, argsFor(w), { silent: true });
    child.on("message", (m: { type: string; conflicts?: number }) => {
      if (m.type === "done") conflicts += m.conflicts ?? 0;
    });
    children.push(child);
  }
  return { children, conflicts: () => conflicts };
}

/**
 * Read `location` every 25 ms until `stop()`: each read must parse and validate (`check` throws
 * otherwise), so a torn or half-written file is counted.
 */
function pollReader(storage: Storage, location: string, check: (text: string) => void): { stop: () => Promise<{ reads: number; tornReads: number }> } {
  let running = true;
  let reads = 0;
  let tornReads = 0;
  const loop = (async () => {
    while (running) {
      try {
        check(new TextDecoder().decode(await storage.read(location)));
        reads++;
      } catch (error) {
        if ((error as { code?: string }).code !== "NOT_FOUND") {
          tornReads++;
          reads++;
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { reads, tornReads };
    },
  };
}

/**
 * `writers` processes each log and save `perWriter` experiments into one project on any storage
 * (local disk, or an S3 bucket on moto), while this process reads the file over and over.
 */
export async function concurrency(options: { writers: number; perWriter: number; storage: StorageSpec; location?: string }): Promise<ConcurrencyFigures> {
  const started = Date.now();
  const location = options.location ?? "project.json";
  const storage = await openStorage(options.storage);
  const spec = options.storage;
  const { children, conflicts } = startWriters(
    "worker.ts",
    (w): WorkerArgs => ({ kind: spec.kind, storage: spec, location, writer: w, count: options.perWriter }),
    options.writers,
  );
  // A reader polls the file the whole time: it must never see a torn or invalid file.
  const reader = pollReader(storage, location, (text) => {
    validateFile(projectFileSchema, parsePyJson(text, location), location);
  });
  let polled: { reads: number; tornReads: number };
  try {
    await Promise.all(children.map(exited));
  } finally {
    polled = await reader.stop();
  }
  const check = await checkStored(storage, location);
  const expected: string[] = [];
  for (let w = 0; w < options.writers; w++) for (let i = 0; i < options.perWriter; i++) expected.push(`w${w}-${i}`);
  return {
    writers: options.writers,
    ...tally(expected, check.uids),
    tornReads: polled.tornReads,
    reads: polled.reads,
    brokenArtifacts: check.brokenArtifacts.length,
    conflicts: conflicts(),
    ms: Date.now() - started,
  };
}

export interface RepositoryConcurrencyFigures extends ConcurrencyFigures {
  names: number;
  /** Version numbers missing from 0..n-1 of a name (a hole). */
  missingVersions: number;
  /** Version numbers that occur more than once for a name. */
  duplicateVersions: number;
  /** Entries whose file is missing, does not parse, or does not match its sha256. */
  badFiles: number;
  failures: string[];
}

/**
 * `writers` processes log `perWriter` versions each, spread over `names` shared artifact names, into
 * one repository; afterwards every name's versions must be exactly 0..n-1, every version's file must
 * be there and match its sha256, and every logged value must be stored exactly once.
 */
export async function concurrencyRepository(options: {
  writers: number;
  perWriter: number;
  names: number;
  storage: StorageSpec;
  location?: string;
}): Promise<RepositoryConcurrencyFigures> {
  const started = Date.now();
  const location = options.location ?? "repository.json";
  const storage = await openStorage(options.storage);
  const names = Array.from({ length: options.names }, (_, k) => `model-${k}`);
  const { children, conflicts } = startWriters(
    "repo-worker.ts",
    (w): RepoWorkerArgs => ({ storage: options.storage, location, writer: w, count: options.perWriter, names }),
    options.writers,
  );
  const reader = pollReader(storage, location, (text) => {
    validateFile(repositoryFileSchema, parsePyJson(text, location), location);
  });
  let polled: { reads: number; tornReads: number };
  try {
    await Promise.all(children.map(exited));
  } finally {
    polled = await reader.stop();
  }
  const text = new TextDecoder().decode(await storage.read(location));
  const entries = validateFile(repositoryFileSchema, parsePyJson(text, location), location);
  const failures: string[] = [];
  const versionsByName = new Map<string, number[]>();
  const uids = new Map<string, number>();
  let badFiles = 0;
  const dir = dirnameKey(location);
  for (const entry of entries) {
    const list = versionsByName.get(entry.name) ?? [];
    list.push(entry.version);
    versionsByName.set(entry.name, list);
    const key = joinKey(dir, entry.name, entry.fname);
    try {
      const bytes = await storage.read(key);
      if (entry.sha256 === undefined || createHash("sha256").update(bytes).digest("hex") !== entry.sha256) throw new Error("sha256 does not match");
      const uid = String((JSON.parse(new TextDecoder().decode(bytes)) as { uid: unknown }).uid);
      uids.set(uid, (uids.get(uid) ?? 0) + 1);
    } catch (error) {
      badFiles++;
      if (failures.length < 10) failures.push(`${entry.name} v${entry.version} ${key}: ${(error as Error).message}`);
    }
  }
  let missingVersions = 0;
  let duplicateVersions = 0;
  for (const [name, versions] of versionsByName) {
    const seen = new Set<number>();
    for (const v of versions) {
      if (seen.has(v)) duplicateVersions++;
      seen.add(v);
    }
    const top = Math.max(...versions);
    for (let v = 0; v <= top; v++) if (!seen.has(v)) missingVersions++;
    if ((duplicateVersions > 0 || missingVersions > 0) && failures.length < 10)
      failures.push(`${name}: versions ${[...versions].sort((a, b) => a - b).join(",")}`);
  }
  const expected: string[] = [];
  for (let w = 0; w < options.writers; w++) for (let i = 0; i < options.perWriter; i++) expected.push(`w${w}-${i}`);
  return {
    writers: options.writers,
    names: options.names,
    ...tally(expected, uids),
    tornReads: polled.tornReads,
    reads: polled.reads,
    brokenArtifacts: badFiles,
    conflicts: conflicts(),
    missingVersions,
    duplicateVersions,
    badFiles,
    failures,
    ms: Date.now() - started,
  };
}

export interface CrashFigures {
  crashTrials: number;
  /** Trials after which the file did not parse, or held less than before the save, or a duplicate. */
  corrupt: number;
  /** Trials in which the kill landed while a save was under way (after "saving", before "saved"). */
  killedDuringSave: number;
  /** Experiments acknowledged as saved that were missing afterwards. */
  lost: number;
  duplicated: number;
  brokenArtifacts: number;
  failures: string[];
  ms: number;
}

/**
 * `trials` times: start a writer that saves experiment after experiment into one project, SIGKILL it
 * at a random moment, then check the project file: it parses, holds everything it held before plus
 * every save the writer confirmed, at most the one save under way on top, nothing twice, and every
 * artifact it names is there.
 */
export async function crashLocal(options: { trials: number; maxDelayMs?: number; root?: string }): Promise<CrashFigures> {
  const root = options.root ?? (await tempDir("crash"));
  const started = Date.now();
  const storage = new LocalStorage(root);
  const figures: CrashFigures = { crashTrials: 0, corrupt: 0, killedDuringSave: 0, lost: 0, duplicated: 0, brokenArtifacts: 0, failures: [], ms: 0 };
  let before = new Set<string>();
  let next = 0;
  try {
    for (let trial = 0; trial < options.trials; trial++) {
      const args: WorkerArgs = { kind: "local", root, writer: 0, count: 1_000_000, start: next, artifactEvery: 2, staleLockMs: 1500 };
      const child = startWorker("worker.ts", args, { silent: true });
      const confirmed: string[] = [];
      let inFlight: string | undefined;
      let saving = false;
      child.on("message", (m: { type: string; uid?: string }) => {
        if (m.type === "saving" && m.uid) {
          inFlight = m.uid;
          saving = true;
        }
        if (m.type === "saved" && m.uid) {
          confirmed.push(m.uid);
          saving = false;
        }
      });
      const done = exited(child).catch((e: unknown) => {
        figures.failures.push(`trial ${trial}: ${(e as Error).message}`);
        return undefined;
      });
      await new Promise<void>((resolve) => child.once("message", () => resolve()));
      await new Promise((r) => setTimeout(r, Math.random() * (options.maxDelayMs ?? 300)));
      if (saving) figures.killedDuringSave++;
      child.kill("SIGKILL");
      await done;
      figures.crashTrials++;
      let uids: Map<string, number>;
      try {
        const check = await checkStored(storage);
        uids = check.uids;
        figures.brokenArtifacts += check.brokenArtifacts.length;
        if (check.brokenArtifacts.length > 0) figures.failures.push(`trial ${trial}: missing artifacts ${check.brokenArtifacts.join(", ")}`);
      } catch (error) {
        if ((error as { code?: string }).code === "NOT_FOUND" && before.size === 0) uids = new Map();
        else {
          figures.corrupt++;
          figures.failures.push(`trial ${trial}: ${(error as Error).message}`);
          continue;
        }
      }
      const must = [...before, ...confirmed];
      const allowed = new Set([...must, ...(inFlight ? [inFlight] : [])]);
      const t = tally(must, uids);
      const extra = [...uids.keys()].filter((u) => !allowed.has(u));
      if (t.lost > 0 || t.duplicated > 0 || extra.length > 0) {
        figures.corrupt++;
        figures.failures.push(`trial ${trial}: lost ${t.lost}, duplicated ${t.duplicated}, unexpected ${extra.join(",")}`);
      }
      figures.lost += t.lost;
      figures.duplicated += t.duplicated;
      before = new Set(uids.keys());
      next += confirmed.length + 1;
    }
  } finally {
    figures.ms = Date.now() - started;
    if (!options.root) await rm(root, { recursive: true, force: true });
  }
  return figures;
}

/**
 * Hostile inputs and places (issue 13): FIFOs and devices as index files, symlinks out of a project,
 * silent S3 endpoints, bucket names that are paths, planted --out symlinks, deep nesting, huge
 * filters, terminal control characters. Each passing case counts as a bad input handled.
 */
export const HOSTILE_INPUT_TESTS = [
  "packages/core/test/deep-json.test.ts",
  "packages/storage-local/test/hostile.test.ts",
  "packages/storage-s3/test/hostile.test.ts",
  "packages/labbook/test/cli-hostile.test.ts",
];

/** Run the bad-input, hostile-input and property test files through vitest and count the cases that passed. */
export function badInputCases(options: { propertyRuns?: number } = {}): { passed: number; failed: number; properties: number } {
  const out = path.join(tmpdir(), `labbook-bad-inputs-${process.pid}.json`);
  const badInputFiles = ["packages/core/test/bad-input.test.ts", ...HOSTILE_INPUT_TESTS];
  try {
    execFileSync("pnpm", ["exec", "vitest", "run", ...badInputFiles, "packages/core/test/property.test.ts", "--reporter=json", `--outputFile=${out}`], {
      cwd: repoRoot,
      stdio: "ignore",
      env: { ...process.env, LABBOOK_PROPERTY_RUNS: String(options.propertyRuns ?? 500) },
    });
  } catch {
    // Failures are counted from the report below.
  }
  const report = JSON.parse(readFileSync(out, "utf8")) as { testResults: Array<{ name: string; assertionResults: Array<{ status: string }> }> };
  const count = (files: string[], status: string) =>
    report.testResults
      .filter((f) => files.some((file) => f.name.endsWith(file)))
      .reduce((n, f) => n + f.assertionResults.filter((a) => a.status === status).length, 0);
  return {
    passed: count(badInputFiles, "passed"),
    failed: count([...badInputFiles, "packages/core/test/property.test.ts"], "failed"),
    properties: count(["packages/core/test/property.test.ts"], "passed"),
  };
}
