export { type ConformanceOptions, describeStorageConformance, type StorageFactory } from "./conformance.js";
export { findMoto, type MotoServer, motoStorageOptions, startMoto } from "./moto.js";
export { freePort } from "./ports.js";
export { findPython, repoRoot, runPython } from "./python.js";
export { findRedis, type RedisServer, startRedis } from "./redis.js";
