/**
 * Record what the real Python `wandb` client sends for one run (tooling/python/record_wandb_run.py)
 * to a local stub (tooling/testing/src/wandb-stub.ts), and write it to
 * packages/tracking/test/fixtures/wandb-exchange.json for the W&B contract test. No W&B server is
 * involved: the stub answers from a table.
 *
 * Run from the repository root:
 *   node --import ./packages/storage-local/node_modules/tsx/dist/loader.mjs --conditions=@labbook/source packages/tracking/scripts/record-wandb-exchange.ts
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { findPython, repoRoot } from "../../../tooling/testing/src/python.js";
import { startWandbStub } from "../../../tooling/testing/src/wandb-stub.js";

const run = promisify(execFile);
const python = findPython();
if (!python) throw new Error("No venv: run bash tooling/ci/setup.sh and tooling/ci/setup-tracking.sh");
const stub = await startWandbStub();
const dir = await mkdtemp(path.join(tmpdir(), "labbook-wandb-record-"));
try {
  const { stdout, stderr } = await run(python, [path.join(repoRoot, "tooling/python/record_wandb_run.py"), dir], {
    env: { ...process.env, WANDB_BASE_URL: stub.url, WANDB_API_KEY: stub.apiKey, WANDB_MODE: "online", WANDB_SILENT: "true", WANDB_DIR: dir },
    timeout: 180_000,
  });
  process.stderr.write(stdout + stderr);
  const { version } = JSON.parse((await run(python, ["-c", "import json, wandb; print(json.dumps({'version': wandb.__version__}))"])).stdout) as {
    version: string;
  };
  const out = path.join(repoRoot, "packages/tracking/test/fixtures/wandb-exchange.json");
  const fixture = {
    note: "Recorded from the real Python wandb client against a local stub (tooling/testing/src/wandb-stub.ts); no W&B server was involved. Regenerate with packages/tracking/scripts/record-wandb-exchange.ts.",
    wandb: version,
    requests: stub.requests.filter((r) => r.kind !== "telemetry"),
  };
  await writeFile(out, `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${fixture.requests.length} requests to ${out}`);
} catch (error) {
  process.stderr.write(
    `${(error as { stderr?: string }).stderr?.slice(-3000) ?? error}\nrequests so far: ${stub.requests.map((r) => `${r.kind}(${r.status})`).join(" ")}\n`,
  );
  process.exitCode = 1;
} finally {
  await stub.stop();
  await rm(dir, { recursive: true, force: true });
}
