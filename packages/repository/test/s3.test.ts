import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Project } from "@labbook/core";
import { Repository } from "@labbook/repository";
import { LocalStorage } from "@labbook/storage-local";
import { S3Storage } from "@labbook/storage-s3";
import { findMoto, type MotoServer, motoStorageOptions, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BUCKET = "repository";
let moto: MotoServer | undefined;
let dir: string;

beforeAll(async () => {
  moto = await startMoto({ buckets: [BUCKET] });
  dir = await mkdtemp(path.join(tmpdir(), "labbook-repo-s3-"));
});
afterAll(async () => {
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function s3(): Promise<S3Storage> {
  if (!moto) throw new Error("moto is not running");
  const storage = new S3Storage(motoStorageOptions(moto, BUCKET));
  await storage.probe();
  return storage;
}

describe.skipIf(findMoto() === undefined)("Repository on S3 (moto), end to end", () => {
  it("promotes from a local experiment, travels in time, releases to local disk, and survives two writers", async () => {
    const storage = await s3();
    let now = new Date("2024-01-01T00:00:00Z");
    const clock = () => now;
    const repo = await Repository.open("models/repository.json", { storage, clock });
    repo.logArtifact("model", { v: 0 }, { handler: "json" });
    await repo.save();

    const project = await Project.open("project.json", {
      storage: new LocalStorage(path.join(dir, "project")),
      author: "ada",
      clock: () => new Date("2024-01-10T00:00:00Z"),
    });
    const exp = await project.log("run", (e) => e.logArtifact("model", { v: 1 }, { handler: "json" }));
    await project.save();
    now = new Date("2024-01-11T00:00:00Z");
    expect((await repo.promote(exp, "model")).version).toBe(1);

    const a = await Repository.open("models/repository.json", { storage, clock });
    const b = await Repository.open("models/repository.json", { storage, clock });
    now = new Date("2024-01-20T00:00:00Z");
    a.logArtifact("model", { v: "a" }, { handler: "json" });
    b.logArtifact("model", { v: "b" }, { handler: "json" });
    await Promise.all([a.save(), b.save()]);

    const ro = await Repository.open("models/repository.json", { storage, mode: "r", clock });
    expect(
      ro
        .versions("model")
        .map((e) => e.version)
        .sort(),
    ).toEqual([0, 1, 2, 3]);
    expect(await ro.loadArtifact("model", { version: "2024-01-15T00:00:00", match: "asof" })).toEqual({ v: 1 });
    expect(await ro.loadArtifact("model", { version: "2024-01-10T00:00:00" })).toEqual({ v: 1 });
    expect(() => ro.getArtifactMetadata("model", { version: 9 })).toThrow(expect.objectContaining({ code: "VERSION_NOT_FOUND" }));

    const writer = await Repository.open("models/repository.json", { storage, clock });
    writer.setArtifactExpiry("model", { version: 1, expiry: "2024-01-12T00:00:00" });
    await writer.save();
    const release = await writer.createRelease("v1");
    const local = new LocalStorage(path.join(dir, "deploy"));
    const minimal = await writer.materializeRelease(release, { location: "repository.json", storage: local });
    expect(minimal.entries).toHaveLength(1);
    const reopened = await Repository.open("models/repository.json", { storage, mode: "r", clock });
    expect(reopened.getArtifactMetadata("model", { version: "2024-01-15T00:00:00", match: "asof" }).version).toBe(0);
    expect(await minimal.loadArtifact("model")).toEqual(await reopened.loadArtifact("model"));
  });
});
