import { S3Storage } from "@labbook/storage-s3";
import { describeStorageConformance, findMoto, type MotoServer, motoStorageOptions, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll } from "vitest";

const BUCKET = "conformance";
let moto: MotoServer | undefined;

beforeAll(async () => {
  moto = await startMoto({ buckets: [BUCKET] });
});
afterAll(async () => {
  await moto?.stop();
});

describeStorageConformance(
  "s3 (moto)",
  async () => {
    if (!moto) throw new Error("moto is not running");
    // A fresh prefix per test is a fresh, empty storage; the probe runs once up front as openProject does.
    const storage = new S3Storage(motoStorageOptions(moto, BUCKET));
    await storage.probe();
    return storage;
  },
  {
    capabilities: { conditionalWrites: true, locking: false, atomicWrites: true },
    skip: findMoto() === undefined,
  },
);
