/**
 * Merges into a project while other processes save into it, and several merges into one project at
 * once: `labbook merge … --into C` must be a read-merge-write like every save, so nothing any
 * writer or merge acknowledged is lost or doubled.
 */
import type { ChildProcess } from "node:child_process";
import { Project } from "../packages/core/src/index.js";
import { checkStored, exited, openStorage, type StorageSpec, startWorker, tally } from "./common.js";
import type { MergeWorkerArgs } from "./merge-worker.js";
import type { WorkerArgs } from "./worker.js";

export interface MergeFigures {
  /** Experiments that must be in the target: its own, every writer's acknowledged ones, every source's. */
  written: number;
  found: number;
  lost: number;
  duplicated: number;
  /** Artifact files the target names that are missing or do not match their sha256. */
  brokenArtifacts: number;
  merges: number;
  /** Merge processes that did not finish (exited with an error); each is a failure of the scenario. */
  failedMerges: number;
  writers: number;
  failures: string[];
  ms: number;
}

const TARGET = "target";

/** A source project of `count` experiments, each with a small json artifact. */
async function makeSource(
  storage: Awaited<ReturnType<typeof openStorage>>,
  folder: string,
  uidPrefix: string,
  count: number,
  start: number,
): Promise<string[]> {
  let now = start;
  const project = await Project.open(`${folder}/project.json`, { storage, mode: "w", author: uidPrefix, clock: () => new Date(now) });
  const uids: string[] = [];
  for (let i = 0; i < count; i++) {
    now = start + i * 1000;
    const uid = `${uidPrefix}-${i}`;
    uids.push(uid);
    await project.log(`${uidPrefix} run ${i}`, (e) => {
      e.logParameter("uid", uid);
      e.logMetric("i", i);
      e.logArtifact("summary", { uid, values: [i, i * 2] }, { handler: "json" });
    });
  }
  await project.save();
  return uids;
}

/**
 * `writers` processes log and save `perWriter` experiments each into one target project while
 * `merges` processes each merge two source projects of `perSource` experiments into it. The merges
 * start two at a time, spread over the first half of the writers' saves, so each one runs beside
 * writers and beside another merge. Afterwards every experiment any of them acknowledged is in the
 * target exactly once, with its artifacts.
 */
export async function mergeDuringWrites(options: {
  storage: StorageSpec;
  writers: number;
  perWriter: number;
  merges: number;
  perSource: number;
}): Promise<MergeFigures> {
  const started = Date.now();
  const storage = await openStorage(options.storage);
  const expected: string[] = [];
  expected.push(...(await makeSource(storage, TARGET, "t", 3, Date.UTC(2024, 0, 1))));
  const pairs: string[][] = [];
  for (let m = 0; m < options.merges; m++) {
    const pair = [`src-${m}-a`, `src-${m}-b`];
    for (const [k, folder] of pair.entries())
      expected.push(...(await makeSource(storage, folder, `m${m}${k === 0 ? "a" : "b"}`, options.perSource, Date.UTC(2024, 1, 1 + m, k))));
    pairs.push(pair);
  }
  const failures: string[] = [];
  const children: Array<{ child: ChildProcess; what: string }> = [];
  const acknowledged: string[] = [];
  const mergers: ChildProcess[] = [];
  // Merge m starts once the writers have acknowledged this many saves (pairs start together).
  const half = Math.floor((options.writers * options.perWriter) / 2);
  const groups = Math.ceil(options.merges / 2);
  const startAt = (m: number) => Math.floor((Math.floor(m / 2) * half) / groups) + 1;
  const release = () => {
    for (const [m, child] of mergers.entries()) {
      if (!ready.has(m) || released.has(m) || acknowledged.length < startAt(m)) continue;
      released.add(m);
      child.send({ type: "go" });
    }
  };
  const ready = new Set<number>();
  const released = new Set<number>();
  for (let w = 0; w < options.writers; w++) {
    const args: WorkerArgs = {
      kind: options.storage.kind,
      storage: options.storage,
      location: `${TARGET}/project.json`,
      writer: w,
      count: options.perWriter,
      artifactEvery: 2,
    };
    const child = startWorker("worker.ts", args, { silent: true });
    child.on("message", (m: { type: string; uid?: string }) => {
      if (m.type === "saved" && m.uid) {
        acknowledged.push(m.uid);
        release();
      }
    });
    children.push({ child, what: `writer ${w}` });
  }
  let merged = 0;
  for (const [m, pair] of pairs.entries()) {
    const args: MergeWorkerArgs = { storage: options.storage, sources: pair, into: TARGET };
    const child = startWorker("merge-worker.ts", args, { silent: true });
    child.on("message", (msg: { type: string }) => {
      if (msg.type === "ready") {
        ready.add(m);
        release();
      }
      if (msg.type === "merged") merged++;
    });
    mergers.push(child);
    children.push({ child, what: `merge ${m}` });
  }
  await Promise.all(
    children.map(({ child, what }) =>
      exited(child).catch((error: unknown) => {
        if (failures.length < 10) failures.push(`${what}: ${(error as Error).message.slice(0, 500)}`);
      }),
    ),
  );
  const failedMerges = options.merges - merged;
  expected.push(...acknowledged);
  const check = await checkStored(storage, `${TARGET}/project.json`);
  const t = tally(expected, check.uids);
  // Anything in the target that nobody wrote is a corruption too.
  const known = new Set(expected);
  for (const uid of check.uids.keys()) if (!known.has(uid) && failures.length < 10) failures.push(`unexpected experiment ${uid}`);
  if (check.brokenArtifacts.length > 0) failures.push(`broken artifacts: ${check.brokenArtifacts.slice(0, 5).join(", ")}`);
  for (const uid of expected) {
    const n = check.uids.get(uid) ?? 0;
    if (n !== 1 && failures.length < 10) failures.push(`${uid} stored ${n} times`);
  }
  return {
    ...t,
    brokenArtifacts: check.brokenArtifacts.length,
    merges: options.merges,
    failedMerges,
    writers: options.writers,
    failures,
    ms: Date.now() - started,
  };
}

/**
 * `rounds` runs of mergeDuringWrites, each on fresh storage from `storage(round)`, added up. A merge
 * that keeps losing its race to the writers gives up (CONFLICT) and is saved again by the command:
 * the rare path that once lost a whole merge, so the suite runs it several times with more writers
 * than merges.
 */
export async function mergeRounds(options: {
  rounds: number;
  storage: (round: number) => Promise<StorageSpec>;
  writers: number;
  perWriter: number;
  merges: number;
  perSource: number;
}): Promise<MergeFigures & { rounds: number }> {
  const total: MergeFigures & { rounds: number } = {
    rounds: options.rounds,
    written: 0,
    found: 0,
    lost: 0,
    duplicated: 0,
    brokenArtifacts: 0,
    merges: 0,
    failedMerges: 0,
    writers: options.writers,
    failures: [],
    ms: 0,
  };
  for (let round = 0; round < options.rounds; round++) {
    const f = await mergeDuringWrites({ ...options, storage: await options.storage(round) });
    total.written += f.written;
    total.found += f.found;
    total.lost += f.lost;
    total.duplicated += f.duplicated;
    total.brokenArtifacts += f.brokenArtifacts;
    total.merges += f.merges;
    total.failedMerges += f.failedMerges;
    total.ms += f.ms;
    for (const failure of f.failures) if (total.failures.length < 10) total.failures.push(`round ${round}: ${failure}`);
    if (process.stdout.isTTY) process.stdout.write(`\r  merges beside writers: round ${round + 1}/${options.rounds}, lost ${total.lost} so far `);
  }
  if (process.stdout.isTTY) process.stdout.write("\n");
  return total;
}
