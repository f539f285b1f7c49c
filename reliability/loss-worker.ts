/**
 * A writer process for the loss scenarios of the reliability suite (reliability/loss.ts):
 * - "same-slug": logs `count` experiments all named `name` (so those logged in one second by any
 *   writer share a slug), each with metric `i` = its number, every third with a JSON artifact,
 *   saving after each; a save that gives up with CONFLICT is called again.
 * - "overwrite": opens the project in mode "w+" and, again and again, overwrites the artifact
 *   "model" of experiment `name` under the same file name, with metric `version` = the value's
 *   version, saving after each.
 * Reports "saving"/"saved" with the uid or version over IPC.
 */
import { isLabbookError, Project } from "../packages/core/src/index.js";
import { openStorage, type StorageSpec } from "./common.js";

export interface LossWorkerArgs {
  kind: "same-slug" | "overwrite";
  storage: StorageSpec;
  writer: number;
  count: number;
  name: string;
  /** overwrite: the version to start at. */
  start?: number;
}

const args = JSON.parse(process.argv[2] ?? "{}") as LossWorkerArgs;

// Saves that reported experiments as lost: among labbook writers alone there must be none.
let lostReported = 0;

async function saveUntilDone(project: Project): Promise<number> {
  for (let conflicts = 0; ; conflicts++) {
    try {
      lostReported += (await project.save()).lost.length;
      return conflicts;
    } catch (error) {
      if (!isLabbookError(error, "CONFLICT")) throw error;
    }
  }
}

async function main(): Promise<void> {
  const storage = await openStorage(args.storage);
  let conflicts = 0;
  if (args.kind === "same-slug") {
    const project = await Project.open("project.json", { storage, author: "same-user" });
    process.send?.({ type: "ready" });
    for (let i = 0; i < args.count; i++) {
      const uid = `w${args.writer}-${i}`;
      await project.log(args.name, (e) => {
        e.logParameter("uid", uid);
        e.logMetric("i", i);
        if (i % 3 === 0) e.logArtifact("weights", { uid }, { handler: "json" });
      });
      process.send?.({ type: "saving", uid });
      conflicts += await saveUntilDone(project);
      process.send?.({ type: "saved", uid });
    }
  } else {
    const project = await Project.open("project.json", { storage, mode: "w+", author: `writer-${args.writer}` });
    process.send?.({ type: "ready" });
    const e = project.get(args.name);
    for (let v = args.start ?? 1; v < (args.start ?? 1) + args.count; v++) {
      e.logMetric("version", v);
      e.logArtifact("model", { version: v, weights: Array.from({ length: 256 }, (_, k) => k * v) }, { handler: "json", fname: "model.json", overwrite: true });
      process.send?.({ type: "saving", uid: String(v) });
      conflicts += await saveUntilDone(project);
      process.send?.({ type: "saved", uid: String(v) });
    }
  }
  process.send?.({ type: "done", conflicts, lostReported });
}

main().then(
  () => process.disconnect?.(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
