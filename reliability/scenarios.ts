/**
 * The reliability scenarios, shared by the CI tests (short settings) and `pnpm reliability` (full
 * settings). Each returns figures; none decides pass or fail itself, so the tests assert on them.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parsePyJson, projectFileSchema, validateFile } from "../packages/core/src/index.js";
import { LocalStorage } from "../packages/storage-local/src/index.js";
import { checkStored, exited, startWorker, tally } from "./common.js";
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
  const started = Date.now();
  try {
    const storage = new LocalStorage(root);
    let conflicts = 0;
    const children: ChildProcess[] = [];
    for (let w = 0; w < options.writers; w++) {
      const args: WorkerArgs = { kind: "local", root, writer: w, count: options.perWriter };
      const child = startWorker("worker.ts", args, { silent: true });
      child.on("message", (m: { type: string; conflicts?: number }) => {
        if (m.type === "done") conflicts += m.conflicts ?? 0;
      });
      children.push(child);
    }
    // A reader polls the file the whole time: it must never see a torn or invalid file.
    let running = true;
    let reads = 0;
    let tornReads = 0;
    const reader = (async () => {
      while (running) {
        try {
          const text = new TextDecoder().decode(await storage.read("project.json"));
          validateFile(projectFileSchema, parsePyJson(text, "project.json"), "project.json");
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
    try {
      await Promise.all(children.map(exited));
    } finally {
      running = false;
      await reader;
    }
    const check = await checkStored(storage);
    const expected: string[] = [];
    for (let w = 0; w < options.writers; w++) for (let i = 0; i < options.perWriter; i++) expected.push(`w${w}-${i}`);
    return {
      writers: options.writers,
      ...tally(expected, check.uids),
      tornReads,
      reads,
      brokenArtifacts: check.brokenArtifacts.length,
      conflicts,
      ms: Date.now() - started,
    };
  } finally {
    if (!options.root) await rm(root, { recursive: true, force: true });
  }
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
