// Exporting N experiments of the bench shape (20 metrics, 20 parameters, 2 tags, 2 json artifacts;
// bench/workload-data.mjs) to a local MLflow 3.17 server, against MLflow's own Python client logging
// the same runs (bench/tracking_export_mlflow.py) to the same server in the same bench run.
// Usage: pnpm turbo run build --filter=@labbook/tracking... && bash tooling/ci/setup-tracking.sh &&
//   node --import ./packages/storage-local/node_modules/tsx/dist/loader.mjs bench/tracking-export.mjs [N=2000]
// (tsx only for the server helper in tooling/testing; labbook itself runs from the built dist.)
// Writes bench/results/tracking-export.json.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { exportProject } from "../packages/tracking/dist/index.js";
import { startMlflow } from "../tooling/testing/src/mlflow.ts";
import { LocalStorage, Project } from "./labbook.mjs";
import { fill } from "./workload-data.mjs";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const n = Number(process.argv[2] ?? 2000);

const dir = await mkdtemp(path.join(os.tmpdir(), "labbook-export-bench-"));
const mlflow = await startMlflow();
if (!mlflow) throw new Error("No mlflow in the venv: run bash tooling/ci/setup-tracking.sh");
try {
  const storage = new LocalStorage(dir);
  const project = await Project.open("project.json", { storage, mode: "w", author: "bench" });
  for (let i = 0; i < n; i++) await project.log(`exp-${i}`, async (e) => fill(e, i));
  await project.save();
  const log = (s) => process.stderr.write(`${s}\n`);
  log(`${n} experiments written to ${dir}; MLflow at ${mlflow.url}`);

  let t = performance.now();
  let last = 0;
  const summary = await exportProject(project, {
    backend: "mlflow",
    trackingUri: mlflow.url,
    experimentName: "labbook-export",
    onProgress: (p) => {
      if (p.done - last >= 500 || p.done === p.total) log(`labbook export: ${(last = p.done)}/${p.total}`);
    },
  });
  const labbookSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const again = await exportProject(project, { backend: "mlflow", trackingUri: mlflow.url, experimentName: "labbook-export" });
  const unchangedSeconds = (performance.now() - t) / 1000;
  if (summary.created !== n || again.unchanged !== n) throw new Error(`unexpected summaries: ${JSON.stringify([summary.created, again.unchanged])}`);

  log("MLflow Python client: logging the same runs…");
  const python = path.join(process.env.LABBOOK_VENV ?? path.join(root, ".venv"), "bin", "python");
  const { stdout } = await run(python, [path.join(here, "tracking_export_mlflow.py"), mlflow.url, dir, "python-client"], { maxBuffer: 1 << 24 });
  const pythonSeconds = JSON.parse(stdout.trim().split("\n").at(-1)).seconds;

  const counted = await mlflow.python(`
result = {name: len(client.search_runs([client.get_experiment_by_name(name).experiment_id], max_results=50000)) for name in ["labbook-export", "python-client"]}`);
  const result = {
    generated_at: new Date().toISOString().slice(0, 19),
    command: `node --import ./packages/storage-local/node_modules/tsx/dist/loader.mjs bench/tracking-export.mjs ${n}`,
    n,
    mlflow: "3.17.2 (sqlite backend, --workers 1, --serve-artifacts, 127.0.0.1)",
    machine: { cores: os.cpus().length, node: process.version, load_average: os.loadavg().map((x) => Number(x.toFixed(2))) },
    labbook_export_s: Number(labbookSeconds.toFixed(2)),
    labbook_second_export_unchanged_s: Number(unchangedSeconds.toFixed(2)),
    mlflow_python_client_s: Number(pythonSeconds.toFixed(2)),
    speedup_vs_python_client: Number((pythonSeconds / labbookSeconds).toFixed(2)),
    runs_on_server: counted,
  };
  await writeFile(path.join(here, "results", "tracking-export.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  if (labbookSeconds > pythonSeconds) process.exitCode = 1;
} finally {
  await mlflow.stop();
  await rm(dir, { recursive: true, force: true });
}
