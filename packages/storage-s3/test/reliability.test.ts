/**
 * The reliability suite on S3 (moto on 127.0.0.1), at short settings for CI; `pnpm reliability`
 * runs the same scenarios at full size.
 */
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { faultsS3 } from "../../../reliability/faults.js";
import { concurrency } from "../../../reliability/scenarios.js";

// findMoto() throws under CI=true when moto is missing, so CI fails instead of skipping.
const haveMoto = findMoto() !== undefined;
let moto: MotoServer | undefined;

beforeAll(async () => {
  if (haveMoto) moto = await startMoto({ buckets: ["reliability"] });
});
afterAll(() => moto?.stop());

const s3 = (prefix: string) => {
  if (!moto) throw new Error("moto is not running");
  return { kind: "s3" as const, endpoint: moto.endpoint, bucket: "reliability", prefix, region: moto.region, credentials: moto.credentials };
};

describe.skipIf(!haveMoto)("reliability on S3 (short settings)", () => {
  it("8 processes saving into one project on S3 lose nothing, duplicate nothing, and a reader never sees a torn file", async () => {
    const f = await concurrency({ writers: 8, perWriter: 8, storage: s3("concurrency") });
    expect(f.written).toBe(64);
    expect(f.lost).toBe(0);
    expect(f.duplicated).toBe(0);
    expect(f.found).toBe(64);
    expect(f.tornReads).toBe(0);
    expect(f.reads).toBeGreaterThan(0);
    expect(f.brokenArtifacts).toBe(0);
  });

  it("saves under injected faults (resets, 500, 503 SlowDown) commit whole or throw typed errors, and a retry finishes", async () => {
    const f = await faultsS3({ saves: 6, storage: s3("faults"), faultRate: 0.25, multipartEvery: 2 });
    expect(f.failures).toEqual([]);
    expect(f.faultsInjected).toBeGreaterThan(0);
    expect(f.untyped).toBe(0);
    expect(f.invalidAfterFailure).toBe(0);
    expect(f.saves).toBe(6);
    expect(f.committed).toBe(6);
    expect(f.lost + f.duplicated).toBe(0);
  });
});
