/**
 * The reliability suite for repositories, at short settings for CI: 8 writer processes log versions
 * of the same few names into one repository, on local disk and on S3 (moto). `pnpm reliability`
 * runs the same scenario at full size.
 */
import { rm } from "node:fs/promises";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { faultsRepositoryS3 } from "../../../reliability/faults.js";
import { concurrencyRepository, type RepositoryConcurrencyFigures, tempDir } from "../../../reliability/scenarios.js";

function expectWhole(f: RepositoryConcurrencyFigures, written: number): void {
  expect(f.failures).toEqual([]);
  expect(f.written).toBe(written);
  expect(f.found).toBe(written);
  expect(f.lost).toBe(0);
  expect(f.duplicated).toBe(0);
  expect(f.missingVersions).toBe(0);
  expect(f.duplicateVersions).toBe(0);
  expect(f.badFiles).toBe(0);
  expect(f.tornReads).toBe(0);
}

describe("repository reliability on local disk (short settings)", () => {
  it("8 processes logging versions of the same 3 names: versions 0..n-1 per name, each value once, every file matching its sha256", async () => {
    const root = await tempDir("repo-concurrency");
    try {
      const f = await concurrencyRepository({ writers: 8, perWriter: 10, names: 3, storage: { kind: "local", root } });
      expectWhole(f, 80);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});

// findMoto() throws under CI=true when moto is missing, so CI fails instead of skipping.
const haveMoto = findMoto() !== undefined;

describe.skipIf(!haveMoto)("repository reliability on S3 (short settings)", () => {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startMoto({ buckets: ["reliability"] });
  });
  afterAll(() => moto?.stop());

  it("8 processes logging versions of the same 3 names on S3: no duplicate or missing version numbers", async () => {
    if (!moto) throw new Error("moto is not running");
    const storage = { kind: "s3" as const, endpoint: moto.endpoint, bucket: "reliability", prefix: "repo", region: moto.region, credentials: moto.credentials };
    const f = await concurrencyRepository({ writers: 8, perWriter: 8, names: 3, storage });
    expectWhole(f, 64);
  }, 300_000);

  it("repository saves under injected S3 faults (resets, 500s, 503 SlowDown, lost answers) commit whole or throw typed errors, and a retry finishes", async () => {
    if (!moto) throw new Error("moto is not running");
    const storage = {
      kind: "s3" as const,
      endpoint: moto.endpoint,
      bucket: "reliability",
      prefix: "repo-faults",
      region: moto.region,
      credentials: moto.credentials,
    };
    const f = await faultsRepositoryS3({ saves: 16, storage, faultRate: 0.3 });
    expect(f.failures).toEqual([]);
    expect(f.faultsInjected).toBeGreaterThan(0);
    expect(f.invalid).toBe(0);
    expect(f.untyped).toBe(0);
    expect(f.saves).toBe(16);
    // No wall-clock assertion: the timeout only has to survive a loaded machine (backoffs, moto in Python).
  }, 300_000);
});
