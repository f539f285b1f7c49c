/**
 * A generated workspace for the viewer's tests and bench: a project of `experiments` runs (some with
 * json/csv/text/png artifacts, tests, a metric-history artifact, dependencies on an upstream
 * project, pipeline runs with an HTML report), the upstream project, a repository with versions,
 * an expiry and releases, and a registry file naming them all.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { openProject, openRepository } from "../src/index.js";

export interface ViewerFixture {
  root: string;
  /** The runs project folder (project.json inside). */
  project: string;
  upstream: string;
  repository: string;
  registryFile: string;
  /** Slugs of the experiments that have artifacts, tests and a metric history. */
  rich: string[];
  /** Slugs of the pipeline runs (tag pipeline-run, artifact report). */
  pipelineRuns: string[];
  /** Metric names in every experiment, and parameter names (flattened). */
  metrics: string[];
  parameters: string[];
  /** Steps in each metric history. */
  historySteps: number;
}

/** A deterministic number in [0, 1) for experiment i and stream k. */
export function noise(i: number, k: number): number {
  const x = Math.sin(i * 12.9898 + k * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/** A real PNG (8-bit RGB) of w×h pixels painted by `color(x, y)`. */
export function makePng(w: number, h: number, color: (x: number, y: number) => [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.writeUInt8(8, 8);
  ihdr.writeUInt8(2, 9);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = color(x, y);
      raw.set([r, g, b], y * (w * 3 + 1) + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const HISTORY_STEPS = 25;

/** Write the fixture under `root` (created). About 2 s for 2000 experiments. */
export async function makeViewerFixture(root: string, options: { experiments: number; rich?: number }): Promise<ViewerFixture> {
  mkdirSync(root, { recursive: true });
  const n = options.experiments;
  const richCount = Math.min(options.rich ?? 12, n);
  const upstreamDir = path.join(root, "features");
  const projectDir = path.join(root, "runs");
  const repoDir = path.join(root, "models");
  let tick = Date.UTC(2025, 0, 1);
  const clock = () => new Date((tick += 60_000));

  const upstream = await openProject(upstreamDir, { mode: "w+", author: "grace", clock });
  for (const name of ["features-v1", "features-v2"]) {
    await upstream.log(name, (exp) => {
      exp.logParameter("window", name.endsWith("1") ? 7 : 14);
      exp.logMetric("rows", name.endsWith("1") ? 1000 : 2000);
    });
  }
  await upstream.save();

  const project = await openProject(projectDir, { mode: "w+", author: "ada", clock });
  const authors = ["ada", "grace", "alan"];
  const rich: string[] = [];
  const pipelineRuns: string[] = [];
  for (let i = 0; i < n; i++) {
    const isRich = i < richCount;
    const isPipeline = i >= richCount && i < richCount + 2;
    const exp = await project.log(`run-${String(i).padStart(5, "0")}`, async (exp) => {
      exp.logParameter("lr", [0.1, 0.03, 0.01, 0.003][i % 4]);
      exp.logParameter("batch", [32, 64, 128][i % 3]);
      exp.logParameter("dropout", Number((0.5 * noise(i, 4)).toFixed(3)));
      exp.logParameter("model", { depth: 2 + (i % 6), kind: i % 2 === 0 ? "tree" : "linear" });
      const auc = 0.72 + 0.15 * noise(i, 1) + 0.1 * (1 - 2 * Math.abs(0.25 - 0.5 * noise(i, 4)));
      exp.logMetric("auc", Number(auc.toFixed(4)));
      exp.logMetric("loss", Number((1 - auc + 0.1 * noise(i, 2)).toFixed(4)));
      exp.logMetric("f1", Number((0.5 + 0.4 * noise(i, 3)).toFixed(4)));
      const tags = [i % 10 === 0 ? "baseline" : "", i % 3 === 0 ? "gpu" : "", isPipeline ? "pipeline-run" : ""].filter((t) => t);
      if (tags.length > 0) exp.tag(...tags);
      Object.assign(exp.record, { author: authors[i % 3] });
      if (isRich) {
        exp.addDependency(upstream.get(i % 2 === 0 ? "features-v1" : "features-v2"), { key: "features" });
        exp.logArtifact("config", { lr: exp.parameters.lr, layers: [16, 8], nested: { seed: i, note: `run ${i}` } }, { handler: "json" });
        exp.logArtifact(
          "predictions",
          Array.from({ length: 6 }, (_, r) => ({ id: r, label: r % 2, score: Number(noise(i, 10 + r).toFixed(3)) })),
          { handler: "csv" },
        );
        exp.logArtifact("notes", `Run ${i}: trained with lr=${exp.parameters.lr}.\nSecond line.`, { handler: "text" });
        exp.logArtifact(
          "plot",
          makePng(48, 32, (x, y) => [(x * 5) % 256, (y * 8) % 256, (i * 40) % 256]),
          { handler: "bytes", fname: "plot.png" },
        );
        exp.logArtifact("weights", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), { handler: "bytes" });
        const metrics: Record<string, { steps: number[]; values: number[]; times: number[] }> = {};
        for (const [m, base] of [
          ["loss", 1],
          ["auc", 0.5],
        ] as const) {
          const steps = Array.from({ length: HISTORY_STEPS }, (_, s) => s);
          const values = steps.map((s) =>
            Number((m === "loss" ? base / (1 + s * (0.2 + 0.05 * (i % 3))) : base + 0.4 * (1 - Math.exp(-s / (4 + i)))).toFixed(4)),
          );
          metrics[m] = { steps, values, times: steps.map((s) => Date.UTC(2025, 0, 1) + s * 1000) };
        }
        exp.logArtifact("metric-history", { labbook_metric_history: 1, metrics }, { handler: "json" });
        for (const t of ["holdout", "recent"]) {
          await exp.logTest(t, { description: `${t} population` }, (test) => {
            test.logMetric("auc", Number((0.6 + 0.3 * noise(i, t.length)).toFixed(4)));
            test.logMetric("f1", Number((0.4 + 0.3 * noise(i, t.length + 1)).toFixed(4)));
            test.logArtifact("confusion", { tp: 10 + i, fp: 3, fn: 2, tn: 40 }, { handler: "json" });
          });
        }
      }
      if (isPipeline) {
        exp.logArtifact("report", `<!doctype html><html><body><h1>Pipeline run ${i}</h1><script>document.title="pwned"</script></body></html>`, {
          handler: "text",
          fname: "report.html",
        });
      }
    });
    if (isRich) rich.push(exp.slug);
    if (isPipeline) pipelineRuns.push(exp.slug);
  }
  await project.save();

  const repo = await openRepository(repoDir, { mode: "w+", clock });
  repo.logArtifact("model", { weights: [1, 2, 3], note: "first" }, { handler: "json" });
  repo.logArtifact("readme", "Model card\nversion one\n", { handler: "text" });
  await repo.save();
  await repo.createRelease("v1");
  repo.logArtifact("model", { weights: [1, 2, 4], note: "second" }, { handler: "json" });
  repo.logArtifact("readme", "Model card\nversion two\nwith more\n", { handler: "text" });
  await repo.save();
  repo.logArtifact("model", { weights: [2, 2, 4], note: "third" }, { handler: "json" });
  repo.setArtifactExpiry("model", { version: 0, expiry: "2025-06-01T00:00:00" });
  await repo.save();
  await repo.createRelease("v2");

  const registryFile = path.join(root, "labbook.registry.json");
  writeFileSync(registryFile, JSON.stringify({ version: 1, projects: { runs: "runs", features: "features" }, repositories: { models: "models" } }, null, 2));
  return {
    root,
    project: projectDir,
    upstream: upstreamDir,
    repository: repoDir,
    registryFile,
    rich,
    pipelineRuns,
    metrics: ["auc", "f1", "loss"],
    parameters: ["batch", "dropout", "lr", "model.depth", "model.kind"],
    historySteps: HISTORY_STEPS,
  };
}
