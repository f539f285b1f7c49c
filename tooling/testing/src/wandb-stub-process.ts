/**
 * The W&B stub in its own process, for callers that block their event loop while the client runs
 * (the docs-examples test runs each block with spawnSync): prints {"url", "apiKey"} as one JSON line,
 * then serves until killed. This is a stub of W&B's HTTP API, not W&B.
 */
import { startWandbStub } from "./wandb-stub.js";

const stub = await startWandbStub();
process.stdout.write(`${JSON.stringify({ url: stub.url, apiKey: stub.apiKey })}\n`);
process.on("SIGTERM", () => void stub.stop().then(() => process.exit(0)));
