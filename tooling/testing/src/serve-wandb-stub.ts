// Debug aid: start the W&B stub and print its URL (node --import <tsx loader> tooling/testing/src/serve-wandb-stub.ts).
import { startWandbStub } from "./wandb-stub.js";

const stub = await startWandbStub();
console.log(stub.url);
setInterval(() => {}, 1 << 30);
