/**
 * Loss scenarios of the reliability suite (issue 12): same-slug writers and in-place overwrites under
 * SIGKILL. Like scenarios.ts, each returns figures and decides nothing itself.
 */
import { rm } from "node:fs/promises";
import { Project, parsePyJson } from "../packages/core/src/index.js";
import { validateFile } from "../packages/core/src/internal.js";
import { projectFileSchema } from "../packages/core/src/schemas-entry.js";
import { LocalStorage } from "../packages/storage-local/src/index.js";
import { checkStored, exited, startWorker, tally } from "./common.js";
import type { LossWorkerArgs } from "./loss-worker.js";
import { tempDir } from "./scenarios.js";

export interface SameSlugFigures {
  writers: number;
  written: number;
  found: number;
  lost: number;
  duplicated: number;
  /** Experiments whose metric does not belong to their uid (a stale or swapped value came back). */
  mixed: number;
  /** How many experiments shared their slug with at least one other. */
  sharingSlug: number;
  brokenArtifacts: number;
  conflictsRetried: number;
  /** Experiments a save reported as erased by another writer: labbook writers never erase, so 0. */
  lostReported: number;
  ms: number;
}

/**
 * `writers` processes, one author name for all, each log `perWriter` experiments under one name and
 * save after each: every experiment logged in the same second shares a slug with the others of
 * that second, from any writer. Afterwards each uid must be there once, with its own metric.
 */
export async function sameSlugLocal(options: { writers: number; perWriter: number }): Promise<SameSlugFigures> {
  const root = await tempDir("same-slug");
  const started = Date.now();
  try {
    const storage = { kind: "local" as const, root };
    let conflicts = 0;
    let lostReported = 0;
    const children = Array.from({ length: options.writers }, (_, w) => {
      const args: LossWorkerArgs = { kind: "same-slug", storage, writer: w, count: options.perWriter, name: "train" };
      const child = startWorker("loss-worker.ts", args, { silent: true });
      child.on("message", (m: { type: string; conflicts?: number; lostReported?: number }) => {
        if (m.type !== "done") return;
        conflicts += m.conflicts ?? 0;
        lostReported += m.lostReported ?? 0;
      });
      return child;
    });
    await Promise.all(children.map(exited));
    const local = new LocalStorage(root);
    const check = await checkStored(local);
    const records = validateFile(projectFileSchema, parsePyJson(new TextDecoder().decode(await local.read("project.json"))), "project.json");
    const slugs = new Map<string, number>();
    for (const r of records) slugs.set(r.slug, (slugs.get(r.slug) ?? 0) + 1);
    const mixed = records.filter((r) => `${String(r.parameters.uid).split("-")[1]}` !== String(r.metrics.i)).length;
    const expected: string[] = [];
    for (let w = 0; w < options.writers; w++) for (let i = 0; i < options.perWriter; i++) expected.push(`w${w}-${i}`);
    return {
      writers: options.writers,
      ...tally(expected, check.uids),
      mixed,
      sharingSlug: records.filter((r) => (slugs.get(r.slug) ?? 0) > 1).length,
      brokenArtifacts: check.brokenArtifacts.length,
      conflictsRetried: conflicts,
      lostReported,
      ms: Date.now() - started,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export interface OverwriteCrashFigures {
  crashTrials: number;
  /** Trials in which the kill landed while a save was under way. */
  killedDuringSave: number;
  /** Trials after which the index did not parse, or an artifact did not match its sha256 or its metric. */
  corrupt: number;
  /** Trials after which the stored version was older than the last one the writer confirmed. */
  lost: number;
  failures: string[];
  ms: number;
}

/**
 * `trials` times: a writer in mode "w+" overwrites one artifact under the same file name and saves,
 * again and again, and is killed with SIGKILL at a random moment. Afterwards the index must parse,
 * the artifact it names must match its sha256 and hold the version its metric says, and that version
 * must be the last confirmed one or the one whose save was under way.
 */
export async function overwriteCrashLocal(options: { trials: number; maxDelayMs?: number }): Promise<OverwriteCrashFigures> {
  const root = await tempDir("overwrite-crash");
  const started = Date.now();
  const figures: OverwriteCrashFigures = { crashTrials: 0, killedDuringSave: 0, corrupt: 0, lost: 0, failures: [], ms: 0 };
  try {
    const local = new LocalStorage(root);
    const setup = await Project.open("project.json", { storage: local, author: "setup" });
    await setup.log("holder", (e) => {
      e.logMetric("version", 0);
      e.logArtifact("model", { version: 0 }, { handler: "json", fname: "model.json" });
    });
    await setup.save();
    let confirmedVersion = 0;
    let next = 1;
    for (let trial = 0; trial < options.trials; trial++) {
      const args: LossWorkerArgs = {
        kind: "overwrite",
        storage: { kind: "local", root, staleLockMs: 1500 },
        writer: 0,
        count: 1_000_000,
        name: "holder",
        start: next,
      };
      const child = startWorker("loss-worker.ts", args, { silent: true });
      let inFlight: number | undefined;
      let saving = false;
      child.on("message", (m: { type: string; uid?: string }) => {
        if (m.type === "saving") {
          inFlight = Number(m.uid);
          saving = true;
        } else if (m.type === "saved") {
          confirmedVersion = Number(m.uid);
          saving = false;
        }
      });
      const done = exited(child).catch((e: unknown) => {
        figures.failures.push(`trial ${trial}: ${(e as Error).message}`);
      });
      await new Promise<void>((resolve) => child.once("message", () => resolve()));
      await new Promise((r) => setTimeout(r, Math.random() * (options.maxDelayMs ?? 300)));
      if (saving) figures.killedDuringSave++;
      child.kill("SIGKILL");
      await done;
      figures.crashTrials++;
      try {
        const check = await checkStored(local);
        if (check.brokenArtifacts.length > 0) throw new Error(`artifacts not matching their entry: ${check.brokenArtifacts.join(", ")}`);
        const holder = (await Project.open("project.json", { storage: local, mode: "r" })).get("holder");
        const value = (await holder.loadArtifact("model")) as { version: number };
        const version = holder.metrics.version;
        if (value.version !== version) throw new Error(`artifact holds version ${value.version} but the metric says ${version}`);
        if (version !== confirmedVersion && version !== inFlight) {
          if (version !== undefined && version < confirmedVersion) figures.lost++;
          throw new Error(`stored version ${version}, confirmed ${confirmedVersion}, in flight ${inFlight}`);
        }
        confirmedVersion = version;
      } catch (error) {
        figures.corrupt++;
        figures.failures.push(`trial ${trial}: ${(error as Error).message}`);
      }
      next = Math.max(next, (inFlight ?? next) + 1);
    }
  } finally {
    figures.ms = Date.now() - started;
    await rm(root, { recursive: true, force: true });
  }
  return figures;
}
