import { MemoryStorage } from "@labbook/core";
import { Repository } from "@labbook/repository";

/** A clock that starts at `start` and moves one minute on every call. */
export function minuteClock(start = "2024-06-01T10:00:00Z"): () => Date {
  let t = Date.parse(start);
  return () => {
    const d = new Date(t);
    t += 60_000;
    return d;
  };
}

/** A repository with model v0, data v0, release "v1.0.0" of those, then model v1 (not released). */
export async function sampleRepository(storage = new MemoryStorage()): Promise<Repository> {
  const repo = await Repository.open("repo/repository.json", { storage, mode: "w+", clock: minuteClock() });
  repo.logArtifact("model", { weights: [0.1, 0.2] }, { handler: "json" });
  repo.logArtifact("data", "a,b\n1,2\n", { handler: "text" });
  await repo.save();
  await repo.createRelease("v1.0.0");
  repo.logArtifact("model", { weights: [0.3, 0.4] }, { handler: "json" });
  await repo.save();
  return repo;
}
