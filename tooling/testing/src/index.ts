export { CHROMIUM_ARGS, findChromium } from "./chromium.js";
export { type ConformanceOptions, describeStorageConformance, type StorageFactory } from "./conformance.js";
export { findMlflow, type MlflowServer, startMlflow } from "./mlflow.js";
export { findMoto, type MotoServer, motoStorageOptions, startMoto } from "./moto.js";
export { freePort } from "./ports.js";
export { findPython, repoRoot, runPython } from "./python.js";
export { findRedis, type RedisServer, startRedis } from "./redis.js";
export { type RecordedRequest, startWandbStub, type WandbStub } from "./wandb-stub.js";
