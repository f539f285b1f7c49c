import { MemoryStorage } from "@labbook/core";
import { describeStorageConformance } from "../src/index.js";

describeStorageConformance("memory", async () => new MemoryStorage(), {
  capabilities: { conditionalWrites: true, locking: true, atomicWrites: true },
});
