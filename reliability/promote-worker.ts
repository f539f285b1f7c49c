/**
 * A promote process for the reliability suite: opens a project and a repository once, then for each
 * "promote" message promotes one experiment's artifact and answers with the version it got, or that
 * it was refused (ARTIFACT_LOG: not newer than the latest version). Anything else is an error
 * (exit 1). The parent sends the same message to several of these at once.
 */
import { isLabbookError, Project } from "../packages/core/src/index.js";
import { Repository } from "../packages/repository/src/index.js";
import { openStorage, type StorageSpec } from "./common.js";

export interface PromoteWorkerArgs {
  storage: StorageSpec;
  project: string;
  repository: string;
  name: string;
}

export type PromoteReply =
  | { type: "promoted"; slug: string; version: number; created_at: string; sha256: string | undefined }
  | { type: "refused"; slug: string };

const args = JSON.parse(process.argv[2] ?? "{}") as PromoteWorkerArgs;

async function promoteOnce(repo: Repository, project: Project, slug: string): Promise<PromoteReply[]> {
  const experiment = project.get(slug);
  const promoted = (e: { version: number; created_at: string; sha256?: string | undefined }): PromoteReply => ({
    type: "promoted",
    slug,
    version: e.version,
    created_at: e.created_at,
    sha256: e.sha256,
  });
  for (;;) {
    try {
      // A version an earlier, failed save may have committed is still pending: finish that save
      // rather than promote again (promote would refuse it as not newer than itself).
      if (!repo.dirty) return [promoted(await repo.promote(experiment, args.name))];
      await repo.save();
      const created = experiment.artifacts.find((a) => a.name === args.name)?.created_at;
      return repo
        .versions(args.name)
        .filter((e) => e.created_at === created)
        .map(promoted);
    } catch (error) {
      if (isLabbookError(error, "ARTIFACT_LOG")) return [{ type: "refused", slug }];
      // Others kept committing first; nothing of ours is lost by going again.
      if (!isLabbookError(error, "CONFLICT")) throw error;
    }
  }
}

async function main(): Promise<void> {
  const storage = await openStorage(args.storage);
  const project = await Project.open(args.project, { storage, mode: "r" });
  const repo = await Repository.open(args.repository, { storage });
  process.on("message", (m: { type: string; slug?: string }) => {
    if (m.type === "exit") {
      process.disconnect?.();
      return;
    }
    if (m.type !== "promote" || m.slug === undefined) return;
    promoteOnce(repo, project, m.slug).then(
      (replies) => process.send?.({ type: "done", replies }),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
  process.send?.({ type: "ready" });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
