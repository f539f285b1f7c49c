// Appending points to one metric's history stays linear: 1 000, 10 000 and 100 000 points are logged
// with a step, saved, reopened and read back; per-point cost must not grow with the count.
// Usage: node --import ./packages/storage-local/node_modules/tsx/dist/loader.mjs --conditions=@labbook/source bench/metric-history.mjs
// (runs the TypeScript sources through tsx; in-memory storage, so it measures labbook, not a disk)
import { performance } from "node:perf_hooks";
import { MemoryStorage, Project } from "../packages/core/src/index.ts";

async function run(points) {
  const storage = new MemoryStorage();
  const project = await Project.open("project.json", { storage, mode: "w", author: "bench" });
  const t0 = performance.now();
  const exp = await project.log("train", async (e) => {
    for (let step = 0; step < points; step++) e.logMetric("loss", 1 / (step + 1), { step, time: 1_700_000_000_000 + step });
  });
  const t1 = performance.now();
  await project.save();
  const t2 = performance.now();
  const reopened = await Project.open("project.json", { storage, mode: "r" });
  const series = await reopened.get(exp.slug).metricHistory("loss");
  const t3 = performance.now();
  if (series.length !== points) throw new Error(`read back ${series.length} points, expected ${points}`);
  return { points, appendMs: t1 - t0, saveMs: t2 - t1, readMs: t3 - t2, usPerPoint: ((t3 - t0) * 1000) / points };
}

await run(1000); // warm-up
const rows = [];
for (const n of [1000, 10_000, 100_000]) rows.push(await run(n));
const fmt = (x) => x.toFixed(1).padStart(9);
console.log("points    append ms   save ms    read ms   µs/point (all three)");
for (const r of rows) console.log(`${String(r.points).padEnd(8)}${fmt(r.appendMs)}${fmt(r.saveMs)}${fmt(r.readMs)}${fmt(r.usPerPoint)}`);
const ratio = rows[2].usPerPoint / rows[1].usPerPoint;
console.log(`per-point cost at 100 000 vs 10 000 points: ×${ratio.toFixed(2)} (linear ≈ 1)`);
