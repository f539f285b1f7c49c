/**
 * A repository writer process for the reliability suite: opens one repository (local disk or S3)
 * and logs `count` versions spread over a few shared names, saving after each. Every value carries
 * a unique uid, so the checker can tell a lost version from a duplicated one. A save that gives up
 * with CONFLICT is retried, as a user's job would be.
 */
import { isLabbookError } from "../packages/core/src/index.js";
import { Repository } from "../packages/repository/src/index.js";
import { openStorage, type StorageSpec } from "./common.js";

export interface RepoWorkerArgs {
  storage: StorageSpec;
  location?: string;
  writer: number;
  count: number;
  names: string[];
}

const args = JSON.parse(process.argv[2] ?? "{}") as RepoWorkerArgs;

async function main(): Promise<void> {
  const storage = await openStorage(args.storage);
  const repo = await Repository.open(args.location ?? "repository.json", { storage });
  process.send?.({ type: "ready" });
  let conflicts = 0;
  for (let i = 0; i < args.count; i++) {
    const uid = `w${args.writer}-${i}`;
    const name = args.names[(args.writer + i) % args.names.length] as string;
    repo.logArtifact(name, { uid, writer: args.writer, i, values: Array.from({ length: 16 }, (_, k) => k * i) }, { handler: "json" });
    for (;;) {
      try {
        await repo.save();
        break;
      } catch (error) {
        if (!isLabbookError(error, "CONFLICT")) throw error;
        conflicts++;
      }
    }
    process.send?.({ type: "saved", uid, name });
  }
  process.send?.({ type: "done", conflicts });
}

main().then(
  () => process.disconnect?.(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
