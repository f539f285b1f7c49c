/**
 * Concurrent promotes into one repository, from separate processes: in every round half of them
 * promote a round's newer experiment and half its older one, all at the same moment. No version may
 * be stored twice, none may be older than the version before it, and every promote that answered
 * with a version must find it in the index.
 */
import { createHash } from "node:crypto";
import { joinKey, Project, parsePyJson } from "../packages/core/src/index.js";
import { validateFile } from "../packages/core/src/internal.js";
import { repositoryFileSchema } from "../packages/core/src/schemas-entry.js";
import { exited, openStorage, type StorageSpec, startWorker } from "./common.js";
import type { PromoteReply, PromoteWorkerArgs } from "./promote-worker.js";

export interface PromoteFigures {
  rounds: number;
  processes: number;
  /** Promotes that answered with a version. */
  promoted: number;
  /** Promotes refused as not newer than the latest version (expected for the losers). */
  refused: number;
  versions: number;
  /** Answered versions missing from the index. */
  lost: number;
  /** Versions whose artifact (created_at and sha256) is already stored under a lower version. */
  duplicated: number;
  /** Versions not newer than the version before them. */
  outOfOrder: number;
  /** Entries whose file is missing or does not match its sha256. */
  badFiles: number;
  failures: string[];
  ms: number;
}

const PROJECT = "runs/project.json";
const REPOSITORY = "models/repository.json";

export async function concurrentPromotes(options: { storage: StorageSpec; rounds: number; processes: number }): Promise<PromoteFigures> {
  const started = Date.now();
  const storage = await openStorage(options.storage);
  // Round r: "older r" and "newer r", 50 s apart; every round after the one before.
  let now = Date.UTC(2024, 0, 1);
  const project = await Project.open(PROJECT, { storage, mode: "w", author: "promoter", clock: () => new Date(now) });
  for (let r = 0; r < options.rounds; r++) {
    for (const which of ["older", "newer"]) {
      now = Date.UTC(2024, 0, 1) + r * 100_000 + (which === "newer" ? 50_000 : 0);
      await project.log(`${which} ${r}`, (e) => e.logArtifact("model", { round: r, which, weights: [r, r + 1] }, { handler: "json" }));
    }
  }
  await project.save();
  const slugs = (r: number) => ({ older: project.get(`older-${r}`).slug, newer: project.get(`newer-${r}`).slug });
  const failures: string[] = [];
  const workers = Array.from({ length: options.processes }, () =>
    startWorker("promote-worker.ts", { storage: options.storage, project: PROJECT, repository: REPOSITORY, name: "model" } satisfies PromoteWorkerArgs, {
      silent: true,
    }),
  );
  const ends = workers.map((w, k) =>
    exited(w).catch((error: unknown) => {
      if (failures.length < 10) failures.push(`promoter ${k}: ${(error as Error).message.slice(0, 500)}`);
    }),
  );
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once("message", () => resolve()))));
  const replies: PromoteReply[] = [];
  for (let r = 0; r < options.rounds; r++) {
    const { older, newer } = slugs(r);
    const answers = workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          const onMessage = (m: { type: string; replies?: PromoteReply[] }) => {
            if (m.type !== "done") return;
            w.off("message", onMessage);
            replies.push(...(m.replies ?? []));
            resolve();
          };
          w.on("message", onMessage);
          w.once("exit", () => resolve());
        }),
    );
    for (const [k, w] of workers.entries()) if (w.connected) w.send({ type: "promote", slug: k % 2 === 0 ? newer : older });
    await Promise.all(answers);
  }
  for (const w of workers) if (w.connected) w.send({ type: "exit" });
  await Promise.all(ends);

  const entries = validateFile(repositoryFileSchema, parsePyJson(new TextDecoder().decode(await storage.read(REPOSITORY)), REPOSITORY), REPOSITORY);
  const model = entries.filter((e) => e.name === "model").sort((a, b) => a.version - b.version);
  let duplicated = 0;
  let outOfOrder = 0;
  let badFiles = 0;
  const seen = new Set<string>();
  for (const [i, e] of model.entries()) {
    const id = `${e.created_at} ${e.sha256}`;
    if (seen.has(id)) {
      duplicated++;
      if (failures.length < 10) failures.push(`v${e.version} duplicates an earlier version (${id})`);
    }
    seen.add(id);
    const before = model[i - 1];
    if (before && e.created_at <= before.created_at) {
      outOfOrder++;
      if (failures.length < 10) failures.push(`v${e.version} (${e.created_at}) is not newer than v${before.version} (${before.created_at})`);
    }
    if (i !== e.version && failures.length < 10) failures.push(`versions are not 0..n-1: found v${e.version} at position ${i}`);
    try {
      const bytes = await storage.read(joinKey("models", e.name, e.fname));
      if (createHash("sha256").update(bytes).digest("hex") !== e.sha256) throw new Error("sha256 does not match");
    } catch (error) {
      badFiles++;
      if (failures.length < 10) failures.push(`v${e.version} ${e.fname}: ${(error as Error).message}`);
    }
  }
  let lost = 0;
  const promoted = replies.filter((r) => r.type === "promoted");
  for (const p of promoted) {
    if (!model.some((e) => e.version === p.version && e.created_at === p.created_at && e.sha256 === p.sha256)) {
      lost++;
      if (failures.length < 10) failures.push(`promote of ${p.slug} answered v${p.version}, which the index does not hold`);
    }
  }
  return {
    rounds: options.rounds,
    processes: options.processes,
    promoted: promoted.length,
    refused: replies.filter((r) => r.type === "refused").length,
    versions: model.length,
    lost,
    duplicated,
    outOfOrder,
    badFiles,
    failures,
    ms: Date.now() - started,
  };
}
