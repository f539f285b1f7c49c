/**
 * `labbook merge --into C` is a read-merge-write: merge processes running beside processes that save
 * into C, and several merges into C at once, lose and double nothing, on local disk and on S3 (moto).
 * The same scenario runs at full size in `pnpm reliability`.
 */
import { rm } from "node:fs/promises";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MergeFigures, mergeDuringWrites } from "../../../reliability/merges.js";
import { tempDir } from "../../../reliability/scenarios.js";

function expectWhole(f: MergeFigures): void {
  expect(f.failures).toEqual([]);
  expect(f.failedMerges).toBe(0);
  expect(f.lost).toBe(0);
  expect(f.duplicated).toBe(0);
  expect(f.brokenArtifacts).toBe(0);
  expect(f.found).toBe(f.written);
}

describe("labbook merge beside writers, on local disk", () => {
  it("2 writers saving into C while 3 merges into C run at once: every acknowledged experiment is there once", async () => {
    const root = await tempDir("merge-local");
    try {
      const f = await mergeDuringWrites({ storage: { kind: "local", root }, writers: 2, perWriter: 25, merges: 3, perSource: 5 });
      expectWhole(f);
      expect(f.written).toBe(3 + 2 * 25 + 3 * 2 * 5);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});

// findMoto() throws under CI=true when moto is missing, so CI fails instead of skipping.
const haveMoto = findMoto() !== undefined;

describe.skipIf(!haveMoto)("labbook merge beside writers, on S3", () => {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startMoto({ buckets: ["merges"] });
  });
  afterAll(() => moto?.stop());

  it("2 writers saving into C while 3 merges into C run at once: every acknowledged experiment is there once", async () => {
    if (!moto) throw new Error("moto is not running");
    const storage = { kind: "s3" as const, endpoint: moto.endpoint, bucket: "merges", prefix: "m", region: moto.region, credentials: moto.credentials };
    const f = await mergeDuringWrites({ storage, writers: 2, perWriter: 15, merges: 3, perSource: 4 });
    expectWhole(f);
  }, 300_000);
});
