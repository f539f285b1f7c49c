/**
 * Concurrent promotes from separate processes, on local disk and on S3 (moto): the same artifact
 * promoted by several at once is stored once, an older one promoted beside a newer one is refused,
 * and every answered version is in the index. `pnpm reliability` runs the same scenario at full size.
 */
import { rm } from "node:fs/promises";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concurrentPromotes, type PromoteFigures } from "../../../reliability/promotes.js";
import { tempDir } from "../../../reliability/scenarios.js";

function expectWhole(f: PromoteFigures): void {
  expect(f.failures).toEqual([]);
  expect(f.lost).toBe(0);
  expect(f.duplicated).toBe(0);
  expect(f.outOfOrder).toBe(0);
  expect(f.badFiles).toBe(0);
  // Every round adds its newer artifact (and at most its older one, when that committed first).
  expect(f.versions).toBeGreaterThanOrEqual(f.rounds);
  expect(f.versions).toBeLessThanOrEqual(2 * f.rounds);
  expect(f.promoted + f.refused).toBe(f.rounds * f.processes);
}

describe("concurrent promotes on local disk", () => {
  it("4 processes promote the same round's older and newer artifact at once, 6 rounds", async () => {
    const root = await tempDir("promotes");
    try {
      expectWhole(await concurrentPromotes({ storage: { kind: "local", root }, rounds: 6, processes: 4 }));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});

// findMoto() throws under CI=true when moto is missing, so CI fails instead of skipping.
const haveMoto = findMoto() !== undefined;

describe.skipIf(!haveMoto)("concurrent promotes on S3", () => {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startMoto({ buckets: ["promotes"] });
  });
  afterAll(() => moto?.stop());

  it("4 processes promote the same round's older and newer artifact at once, 6 rounds", async () => {
    if (!moto) throw new Error("moto is not running");
    const storage = { kind: "s3" as const, endpoint: moto.endpoint, bucket: "promotes", prefix: "p", region: moto.region, credentials: moto.credentials };
    expectWhole(await concurrentPromotes({ storage, rounds: 6, processes: 4 }));
  }, 300_000);
});
