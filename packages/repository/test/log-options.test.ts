import { MemoryStorage } from "@labbook/core";
import { type FindReleaseOptions, findRelease, Repository, type RepositoryLogOptions, type RepositoryOptions } from "@labbook/repository";
import { describe, expect, it } from "vitest";

// The same shape and the same refusals as core's logArtifact options (core/test/log-options.test.ts).
const clock = () => new Date("2024-05-01T10:00:00Z");
const decoder = new TextDecoder();

async function open(storage = new MemoryStorage()) {
  return Repository.open("repository.json", { storage, mode: "w", clock });
}

describe("Repository.logArtifact options", () => {
  it("passes writerOptions to the handler's writer", async () => {
    const storage = new MemoryStorage();
    const repo = await open(storage);
    repo.logArtifact("config", { lr: 0.1, layers: [8] }, { handler: "json", fname: "config.json", writerOptions: { indent: 2 } });
    await repo.save();
    expect(decoder.decode(await storage.read("config/config.json"))).toBe('{\n  "lr": 0.1,\n  "layers": [\n    8\n  ]\n}');
  });

  it("refuses an unknown option from an untyped caller (a misspelt fname, a writer option outside writerOptions, core's overwrite), and logs nothing", async () => {
    const repo = await open();
    for (const options of [
      { handler: "json", fnmae: "x.json" },
      { handler: "json", indent: 2 },
      { handler: "json", overwrite: true },
    ]) {
      const key = Object.keys(options)[1];
      let error: unknown;
      try {
        repo.logArtifact("model", { v: 1 }, options as unknown as RepositoryLogOptions);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "ARTIFACT_LOG" });
      expect(String((error as Error).message)).toContain(`"${key}"`);
      expect(String((error as Error).message)).toContain("writerOptions");
    }
    expect(repo.has("model")).toBe(false);
  });

  it("refuses writerOptions that are not an object, and options that are missing", async () => {
    const repo = await open();
    for (const writerOptions of [2, "indent", [2], null]) {
      const options = { handler: "json", writerOptions } as unknown as RepositoryLogOptions;
      expect(() => repo.logArtifact("model", 1, options)).toThrow(expect.objectContaining({ code: "ARTIFACT_LOG" }));
    }
    for (const options of [undefined, null, "json"]) {
      expect(() => repo.logArtifact("model", 1, options as unknown as RepositoryLogOptions)).toThrow(expect.objectContaining({ code: "ARTIFACT_LOG" }));
    }
    expect(repo.has("model")).toBe(false);
  });

  it("are named fields in the types too (the package's typecheck covers this file: an unused @ts-expect-error fails it)", async () => {
    const repo = await open();
    // @ts-expect-error a misspelt option does not compile
    expect(() => repo.logArtifact("model", 1, { handler: "json", fnmae: "x.json" })).toThrow(/fnmae/);
    // @ts-expect-error writer options go in writerOptions
    const loose: RepositoryLogOptions = { handler: "json", indent: 2 };
    expect(loose.handler).toBe("json");
    // @ts-expect-error a repository adds versions: there is nothing to overwrite
    const overwrite: RepositoryLogOptions = { handler: "json", overwrite: true };
    expect(overwrite.handler).toBe("json");
  });

  it("takes undefined for every optional field (exactOptionalPropertyTypes callers forwarding their own options)", async () => {
    const storage = new MemoryStorage();
    const forwarded: { mode?: "w" | undefined; fname?: string | undefined; match?: "asof" | undefined } = { mode: "w" };
    const options: RepositoryOptions = { storage, mode: forwarded.mode, handlers: undefined, clock, maxRetries: undefined };
    const repo = await Repository.open("repository.json", options);
    repo.logArtifact("model", { v: 1 }, { handler: "json", fname: forwarded.fname, writerOptions: undefined });
    repo.setArtifactExpiry("model", { version: undefined, match: undefined, expiry: "2030-01-01T00:00:00" });
    await repo.save();
    expect(repo.getArtifactMetadata("model", { version: 0, match: forwarded.match }).fname).toBe("model-20240501100000.json");
    expect(decoder.decode(await storage.read("model/model-20240501100000.json"))).toBe('{"v": 1}');
    await repo.createRelease("v1");
    const find: FindReleaseOptions = { match: forwarded.match };
    expect((await repo.findRelease("v1", find)).tag).toBe("v1");
    expect(findRelease(await repo.releases(), "v1", { match: undefined }).tag).toBe("v1");
    const copy = await repo.materializeRelease("v1", { location: "copy/repository.json", storage: undefined });
    expect(await copy.loadArtifact("model")).toEqual({ v: 1 });
  });
});
