/**
 * Versions must never be duplicated: not by a retry after a lost answer (whatever fails in between),
 * not by two promotes of the same artifact at once, and an older artifact promoted beside a newer
 * one must not become the later version.
 */
import { MemoryStorage, Project, type Storage } from "@labbook/core";
import { Repository } from "@labbook/repository";
import { describe, expect, it } from "vitest";

const decoder = new TextDecoder();

/** A storage whose calls fail as `plan` says: called with the method and key before each call, it may throw. */
function scripted(inner: Storage, plan: (call: { method: string; key: string; landed?: boolean }) => "fail" | "lose-answer" | undefined): Storage {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "write") {
        return async (key: string, ...rest: unknown[]) => {
          const what = plan({ method: "write", key });
          if (what === "fail") throw new Error(`injected failure writing ${key}`);
          const result = await (value as (...a: unknown[]) => Promise<unknown>).call(target, key, ...rest);
          if (what === "lose-answer") throw new Error(`socket hang up after ${key} was written`);
          return result;
        };
      }
      if (prop === "readVersioned" || prop === "read" || prop === "stat") {
        return async (key: string, ...rest: unknown[]) => {
          if (plan({ method: String(prop), key }) === "fail") throw new Error(`injected failure in ${String(prop)} ${key}`);
          return (value as (...a: unknown[]) => Promise<unknown>).call(target, key, ...rest);
        };
      }
      return value.bind(target);
    },
  }) as Storage;
}

function storedEntries(
  memory: MemoryStorage,
  key = "models/repository.json",
): Promise<Array<{ name: string; version: number; sha256?: string; created_at: string }>> {
  return memory.read(key).then((b) => JSON.parse(decoder.decode(b)));
}

async function experimentWith(storage: Storage, when: string, value: unknown) {
  const project = await Project.open(`runs-${when.replace(/:/g, "")}/project.json`, { storage, author: "ada", clock: () => new Date(`${when}Z`) });
  const exp = await project.log("train", (e) => e.logArtifact("model", value, { handler: "json" }));
  await project.save();
  return exp;
}

describe("no duplicated versions after lost answers", () => {
  it("an index write whose answer was lost, then a save that fails before writing, then a save that succeeds: one version", async () => {
    const memory = new MemoryStorage();
    let indexWrites = 0;
    let failNextRead = false;
    const storage = scripted(memory, ({ method, key }) => {
      if (key !== "models/repository.json") return undefined;
      if (method === "write") {
        indexWrites++;
        // The second index write lands, but its answer is lost; the next read of the index fails.
        if (indexWrites === 2) {
          failNextRead = true;
          return "lose-answer";
        }
      }
      if (method === "readVersioned" && failNextRead) {
        failNextRead = false;
        return "fail";
      }
      return undefined;
    });
    const repo = await Repository.open("models/repository.json", { storage, clock: () => new Date("2024-03-01T10:00:00Z") });
    repo.logArtifact("model", { uid: "a" }, { handler: "json" });
    await repo.save();
    repo.logArtifact("model", { uid: "b" }, { handler: "json" });
    // Lost answer; the check of whether it landed cannot read the index either.
    await expect(repo.save()).rejects.toMatchObject({ code: "SAVE_FAILED" });
    // This save fails while catching up (before any index write of its own).
    failNextRead = true;
    await expect(repo.save()).rejects.toThrow();
    await repo.save();
    const entries = await storedEntries(memory);
    expect(entries.map((e) => [e.name, e.version])).toEqual([
      ["model", 0],
      ["model", 1],
    ]);
    expect(new Set(entries.map((e) => e.sha256)).size).toBe(2);
  });
});

describe("concurrent promotes", () => {
  it("two promotes of the same artifact at once store it once; the second is refused", async () => {
    const memory = new MemoryStorage();
    const exp = await experimentWith(memory, "2024-03-01T10:00:00", { weights: [1, 2, 3] });
    const a = await Repository.open("models/repository.json", { storage: memory });
    const b = await Repository.open("models/repository.json", { storage: memory });
    const results = await Promise.allSettled([a.promote(exp, "model"), b.promote(exp, "model")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "ARTIFACT_LOG" });
    expect(String(refused.reason.message)).toMatch(/not newer than the latest version/);
    const entries = await storedEntries(memory);
    expect(entries.map((e) => [e.name, e.version])).toEqual([["model", 0]]);
    // The refused promote's copy was removed: one file in the artifact's folder.
    const files: string[] = [];
    for await (const info of memory.list("models/model/")) files.push(info.key);
    expect(files).toHaveLength(1);
  });

  it("an older and a newer experiment promoted at once never make v1 older than v0", async () => {
    for (const order of ["older first", "newer first"] as const) {
      const memory = new MemoryStorage();
      const older = await experimentWith(memory, "2024-03-01T10:00:00", { from: "older" });
      const newer = await experimentWith(memory, "2024-03-02T10:00:00", { from: "newer" });
      const a = await Repository.open("models/repository.json", { storage: memory });
      const b = await Repository.open("models/repository.json", { storage: memory });
      const pair = order === "older first" ? [a.promote(older, "model"), b.promote(newer, "model")] : [b.promote(newer, "model"), a.promote(older, "model")];
      await Promise.allSettled(pair);
      const entries = await storedEntries(memory);
      const sorted = [...entries].sort((x, y) => x.version - y.version);
      const dates = sorted.map((e) => e.created_at);
      expect(dates).toEqual([...dates].sort());
      expect(new Set(dates).size).toBe(dates.length);
      const reopened = await Repository.open("models/repository.json", { storage: memory, mode: "r" });
      expect(await reopened.loadArtifact("model")).toEqual({ from: "newer" });
    }
  });

  it("the refused promote leaves the repository usable: its other unsaved versions still save", async () => {
    const memory = new MemoryStorage();
    const exp = await experimentWith(memory, "2024-03-01T10:00:00", { weights: [1] });
    const a = await Repository.open("models/repository.json", { storage: memory });
    const b = await Repository.open("models/repository.json", { storage: memory });
    await a.promote(exp, "model");
    await expect(b.promote(exp, "model")).rejects.toMatchObject({ code: "ARTIFACT_LOG" });
    expect(b.dirty).toBe(false);
    b.logArtifact("notes", "hello\n", { handler: "text" });
    await b.save();
    const entries = await storedEntries(memory);
    expect(entries.map((e) => [e.name, e.version]).sort()).toEqual([
      ["model", 0],
      ["notes", 0],
    ]);
  });
});

describe("artifact names that collide with the repository's own files", () => {
  it.each(["repository.json", "repository.json.lock", "releases.json", "releases.json.lock", "Releases.JSON", "weights.lock", "sub/part.lbtmp"])(
    "refuses %s when logged, with ARTIFACT_LOG, and saves still work",
    async (name) => {
      const memory = new MemoryStorage();
      const repo = await Repository.open("models/repository.json", { storage: memory });
      expect(() => repo.logArtifact(name, { a: 1 }, { handler: "json" })).toThrow(
        expect.objectContaining({ code: "ARTIFACT_LOG", path: expect.stringContaining(name) }),
      );
      repo.logArtifact("model", { a: 1 }, { handler: "json" });
      await repo.save();
      await repo.createRelease("v1");
      expect((await repo.releases()).map((r) => r.tag)).toEqual(["v1"]);
      expect(repo.names()).toEqual(["model"]);
    },
  );

  it("refuses a colliding name on promote too, and allows names that only contain a reserved word", async () => {
    const memory = new MemoryStorage();
    const project = await Project.open("runs/project.json", { storage: memory, author: "ada" });
    const exp = await project.log("train", (e) => e.logArtifact("releases.json", { a: 1 }, { handler: "json" }));
    await project.save();
    const repo = await Repository.open("index.json", { storage: memory });
    await expect(repo.promote(exp, "releases.json")).rejects.toMatchObject({ code: "ARTIFACT_LOG" });
    expect(() => repo.logArtifact("index.json", 1, { handler: "json" })).toThrow(expect.objectContaining({ code: "ARTIFACT_LOG" }));
    repo.logArtifact("releases", 1, { handler: "json" });
    repo.logArtifact("my-repository.json", 1, { handler: "json" });
    await repo.save();
    expect(repo.names()).toEqual(["my-repository.json", "releases"]);
  });
});

describe("a release whose write landed but whose answer was lost", () => {
  it("is recognised as ours on the retry inside createRelease (no 'already exists', one release)", async () => {
    const memory = new MemoryStorage();
    let lost = false;
    // The first write of releases.json lands, then its answer is lost as a conflict would be after a
    // client-side retry of the landed request (S3 answers 412 to the second copy).
    const storage = new Proxy(memory, {
      get(target, prop, receiver) {
        if (prop === "write") {
          return async (key: string, data: string, options?: Record<string, unknown>) => {
            const result = await target.write(key, data, options);
            if (key === "models/releases.json" && !lost) {
              lost = true;
              const { LabbookError } = await import("@labbook/core");
              throw new LabbookError("CONFLICT", "412 on the SDK's retry of a write that landed");
            }
            return result;
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Storage;
    const repo = await Repository.open("models/repository.json", { storage, clock: () => new Date("2024-03-01T10:00:00Z") });
    repo.logArtifact("model", { a: 1 }, { handler: "json" });
    await repo.save();
    const release = await repo.createRelease("v1");
    expect(release.tag).toBe("v1");
    expect((await repo.releases()).map((r) => r.tag)).toEqual(["v1"]);
    // A second createRelease of the same tag is still refused.
    await expect(repo.createRelease("v1")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
