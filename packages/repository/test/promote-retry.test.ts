import { MemoryStorage, Project, type Storage, type WriteOptions } from "@labbook/core";
import { Repository } from "@labbook/repository";
import { describe, expect, it } from "vitest";

/** The first write of `key` reaches storage, but its answer is lost (as a connection reset after the PUT). */
function losesFirstAnswer(inner: MemoryStorage, key: string): Storage {
  let lost = false;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "write") {
        return async (k: string, data: Parameters<Storage["write"]>[1], options?: WriteOptions) => {
          const result = await target.write(k, data, options);
          if (k === key && !lost) {
            lost = true;
            throw new Error("socket hang up after the write landed");
          }
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Storage;
}

describe("promote after a save whose answer was lost", () => {
  it("keeps the version it may have committed, so retrying cannot add a second one", async () => {
    const memory = new MemoryStorage();
    const project = await Project.open("runs/project.json", { storage: memory, clock: () => new Date("2024-03-01T10:00:00Z") });
    await project.log("train", (e) => e.logArtifact("model", { weights: [1, 2, 3] }, { handler: "json" }));
    await project.save();

    const repo = await Repository.open("models/repository.json", { storage: losesFirstAnswer(memory, "models/repository.json") });
    await expect(repo.promote(project.get("train"), "model")).rejects.toMatchObject({ code: "SAVE_FAILED" });
    // The index did land: promoting again must not make version 1 of the same artifact.
    await expect(repo.promote(project.get("train"), "model")).rejects.toMatchObject({ code: "ARTIFACT_LOG" });
    await repo.save();

    const reopened = await Repository.open("models/repository.json", { storage: memory, mode: "r" });
    const entries = JSON.parse(new TextDecoder().decode(await memory.read("models/repository.json"))) as Array<{ name: string; version: number }>;
    expect(entries.map((e) => [e.name, e.version])).toEqual([["model", 0]]);
    expect(await reopened.loadArtifact("model")).toEqual({ weights: [1, 2, 3] });
  });
});
