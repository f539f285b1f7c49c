/**
 * The cause of a merge lost in `pnpm reliability` was a project save that, called again after it
 * gave up with CONFLICT, found nothing "changed" and returned without writing. A repository save
 * called again after CONFLICT must commit what the first one did not.
 */
import { MemoryStorage, type WriteOptions } from "@labbook/core";
import { Repository } from "@labbook/repository";
import { describe, expect, it } from "vitest";

const INDEX = "models/repository.json";

describe("a repository save called again after it gave up with CONFLICT", () => {
  it("commits its versions beside every rival's", async () => {
    const storage = new MemoryStorage();
    const write = storage.write.bind(storage);
    const rivals: string[] = [];
    let left = 0;
    let busy = false;
    // Right before each of the next `left` conditional index writes, a rival saves a version first.
    storage.write = async (key, data, options?: WriteOptions) => {
      if (!busy && left > 0 && key === INDEX && options?.ifMatch !== undefined) {
        left--;
        busy = true;
        try {
          const rival = await Repository.open(INDEX, { storage });
          const name = `rival-${rivals.length}`;
          rivals.push(name);
          rival.logArtifact(name, { n: rivals.length }, { handler: "json" });
          await rival.save();
        } finally {
          busy = false;
        }
      }
      return write(key, data, options);
    };
    const first = await Repository.open(INDEX, { storage });
    first.logArtifact("base", { n: 0 }, { handler: "json" });
    await first.save();

    const repo = await Repository.open(INDEX, { storage, maxRetries: 2 });
    repo.logArtifact("model", { weights: [1, 2] }, { handler: "json" });
    left = 3;
    await expect(repo.save()).rejects.toMatchObject({ code: "CONFLICT" });
    expect(left).toBe(0);
    await repo.save();

    const reopened = await Repository.open(INDEX, { storage, mode: "r" });
    expect(reopened.names().sort()).toEqual(["base", "model", ...rivals].sort());
    expect(await reopened.loadArtifact("model")).toEqual({ weights: [1, 2] });
  });
});
