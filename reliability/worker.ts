/**
 * A writer process for the reliability suite: opens one project (local disk, or S3 when `storage`
 * names a bucket), logs `count` experiments (every
 * `artifactEvery`-th with a JSON artifact), saving after each one. A save that gives up with
 * CONFLICT is retried, as a user's job would be. Reports each committed experiment over IPC.
 */
import { isLabbookError, Project, type Storage } from "../packages/core/src/index.js";
import { openStorage, type StorageSpec } from "./common.js";

export interface WorkerArgs {
  kind: "local" | "s3";
  /** Local root (kind "local" without `storage`). */
  root?: string;
  /** Any storage, e.g. an S3 bucket on moto; wins over `root`. */
  storage?: StorageSpec;
  location?: string;
  writer: number;
  count: number;
  /** Start numbering at this experiment (for crash trials that continue a project). */
  start?: number;
  artifactEvery?: number;
  staleLockMs?: number;
  /** Log all experiments first, then save once (a big save) instead of saving after each. */
  batch?: boolean;
}

const args = JSON.parse(process.argv[2] ?? "{}") as WorkerArgs;

function storageFor(a: WorkerArgs): Promise<Storage> {
  if (a.storage) return openStorage(a.storage);
  if (a.root === undefined) throw new Error("worker needs root or storage");
  return openStorage({ kind: "local", root: a.root, ...(a.staleLockMs === undefined ? {} : { staleLockMs: a.staleLockMs }) });
}

async function saveUntilDone(project: Project): Promise<number> {
  let conflicts = 0;
  for (;;) {
    try {
      await project.save();
      return conflicts;
    } catch (error) {
      if (!isLabbookError(error, "CONFLICT")) throw error;
      conflicts++;
    }
  }
}

async function main(): Promise<void> {
  const project = await Project.open(args.location ?? "project.json", { storage: await storageFor(args), author: `writer-${args.writer}` });
  process.send?.({ type: "ready" });
  const every = args.artifactEvery ?? 10;
  const start = args.start ?? 0;
  let conflicts = 0;
  for (let i = start; i < start + args.count; i++) {
    const uid = `w${args.writer}-${i}`;
    await project.log(`w${args.writer} run ${i}`, (e) => {
      e.logParameter("uid", uid);
      e.logParameter("writer", args.writer);
      e.logMetric("i", i);
      e.logMetric("score", Math.random());
      if (i % every === 0) e.logArtifact("weights", { uid, values: Array.from({ length: 64 }, (_, k) => k * i) }, { handler: "json" });
    });
    if (!args.batch) {
      process.send?.({ type: "saving", uid });
      conflicts += await saveUntilDone(project);
      process.send?.({ type: "saved", uid });
    }
  }
  if (args.batch) conflicts += await saveUntilDone(project);
  process.send?.({ type: "done", conflicts });
}

main().then(
  () => process.disconnect?.(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
