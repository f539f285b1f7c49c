/** Provenance bundles and materialize, without a tracking server (the MLflow side is in mlflow.test.ts). */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isLabbookError, MemoryStorage } from "@labbook/core";
import { Repository } from "@labbook/repository";
import { describe, expect, it } from "vitest";
import { LABBOOK_VERSION, logRevision, manifestHash, materialize, provenanceBundle } from "../src/index.js";
import { sampleRepository } from "./helpers.js";

const sha = (s: string | Uint8Array) => createHash("sha256").update(s).digest("hex");
const decoder = new TextDecoder();

describe("provenance bundle", () => {
  it("resolves a release tag to its name→version pairs with a manifest hash over the bytes", async () => {
    const repo = await sampleRepository();
    const bundle = await provenanceBundle(repo, "v1.0.0");
    expect(bundle).toMatchObject({
      revision: "v1.0.0",
      kind: "release",
      resolved: { data: 0, model: 0 },
      formatVersion: "lazyscribe-2",
      labbookVersion: LABBOOK_VERSION,
    });
    const model = decoder.decode(await repo.storage.read(`repo/model/${repo.getArtifactMetadata("model", { version: 0 }).fname}`));
    expect(bundle.manifest.find((l) => l.name === "model")?.sha256).toBe(sha(model));
    const lines = bundle.manifest
      .map((l) => `${l.name}:${l.version}:${l.sha256}\n`)
      .sort()
      .join("");
    expect(bundle.manifestHash).toBe(sha(lines));
    expect(bundle.repository).toContain("repo/repository.json");
  });

  it("resolves a date as of then, and the same bytes always give the same hash", async () => {
    const repo = await sampleRepository();
    const latest = await provenanceBundle(repo, new Date("2030-01-01T00:00:00Z"));
    expect(latest).toMatchObject({ kind: "asof", revision: "2030-01-01T00:00:00", resolved: { data: 0, model: 1 } });
    const early = await provenanceBundle(repo, "2024-06-01T10:01:30");
    expect(early.resolved).toEqual({ data: 0, model: 0 });
    expect(early.manifestHash).toBe((await provenanceBundle(repo, "v1.0.0")).manifestHash);
    expect(manifestHash([...early.manifest].reverse())).toBe(early.manifestHash);
  });

  it("says when a revision is neither a tag nor a date", async () => {
    const error = await provenanceBundle(await sampleRepository(), "v9").catch((e: unknown) => e);
    expect(isLabbookError(error, "VERSION_NOT_FOUND")).toBe(true);
    expect((error as Error).message).toContain('Revision "v9"');
  });
});

describe("materialize", () => {
  it("rebuilds exactly the released files and verifies them", async () => {
    const repo = await sampleRepository();
    const target = new MemoryStorage();
    const out = await materialize(repo, "v1.0.0", "deploy", { storage: target });
    const keys: string[] = [];
    for await (const o of target.list("deploy")) keys.push(o.key);
    const model = repo.getArtifactMetadata("model", { version: 0 });
    const data = repo.getArtifactMetadata("data", { version: 0 });
    expect(keys.sort()).toEqual([`deploy/data/${data.fname}`, `deploy/model/${model.fname}`, "deploy/repository.json"].sort());
    expect(out.manifestHash).toBe((await provenanceBundle(repo, "v1.0.0")).manifestHash);
    const copy = await Repository.open("deploy/repository.json", { storage: target, mode: "r" });
    expect(await copy.loadArtifact("model")).toEqual({ weights: [0.1, 0.2] });
  });

  it("fails with ARTIFACT_LOAD when the files are not the ones logged", async () => {
    const repo = await sampleRepository();
    const error = await materialize(repo, "v1.0.0", "deploy", { storage: new MemoryStorage(), expectedHash: "0".repeat(64) }).catch((e: unknown) => e);
    expect(isLabbookError(error, "ARTIFACT_LOAD")).toBe(true);
    expect((error as Error).message).toContain("not the ones that were logged");
  });
});

describe("logRevision", () => {
  it("refuses an unknown backend before reading anything", async () => {
    const repo = await sampleRepository();
    let touched = false;
    const spy = new Proxy(repo, {
      get(target, prop, receiver) {
        touched = true;
        return Reflect.get(target, prop, receiver);
      },
    });
    const error = await logRevision(spy, "v1.0.0", { backend: "comet" } as never).catch((e: unknown) => e);
    expect(isLabbookError(error, "INVALID_ARGUMENT")).toBe(true);
    expect((error as Error).message).toContain("use one of mlflow, wandb");
    expect(touched).toBe(false);
  });
});

describe("lazy backends", () => {
  it("a plain import of @labbook/tracking loads no backend module", () => {
    // Follow the value imports (not `import type`/`export type`) from src/index.ts.
    const src = fileURLToPath(new URL("../src/", import.meta.url));
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(path.join(src, file), "utf8");
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"(\.[^"]+)\.js";/gms)) {
        visit(path.normalize(path.join(path.dirname(file), `${m[1]}.ts`)));
      }
    };
    visit("index.ts");
    expect([...seen].filter((f) => f.startsWith("mlflow/") || f.startsWith("wandb/"))).toEqual([]);
    expect(seen.has("export.ts")).toBe(true);
    // The backends exist and are reached only by dynamic import().
    expect(readdirSync(path.join(src, "mlflow"))).toContain("export.ts");
  });
});
