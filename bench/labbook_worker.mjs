// One benchmark workload on labbook (or its honest floor, floor-w1 ... floor-w7: see floors.mjs), in its
// own process so peak RSS is per workload.
// Usage: node bench/labbook_worker.mjs <workload> <n> <dir>
// Prints one JSON line: {"seconds": number, "peak_rss_mb": number, "check": ..., "parts"?: {...}}.
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { floors, largeFloor } from "./floors.mjs";
import { LocalStorage, loadRepository, Project } from "./labbook.mjs";
import { ASOF, asofMinute, fill, LOOKUPS, REPO_NAMES } from "./workload-data.mjs";

const [workload, nText, dir] = process.argv.slice(2);
const n = Number(nText);
const GIB = 1024 ** 3;

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const open = (mode) => Project.open("project.json", { storage: new LocalStorage(dir), mode, author: "bench" });

async function time(fn) {
  const t0 = performance.now();
  const check = await fn();
  return { seconds: (performance.now() - t0) / 1000, check };
}

const workloads = {
  // 1. Log N experiments and save.
  w1: () =>
    time(async () => {
      const project = await open("w");
      for (let i = 0; i < n; i++) await project.log(`experiment-${i}`, (exp) => fill(exp, i));
      await project.save();
      return project.size;
    }),
  // 2. Open read-only and read one metric of every experiment.
  w2: () =>
    time(async () => {
      const project = await open("r");
      let total = 0;
      for (const exp of project) total += exp.metrics.metric_05;
      return Math.round(total * 1e6) / 1e6;
    }),
  // 3. Open in append mode, log one more, save.
  w3: () =>
    time(async () => {
      const project = await open("a");
      await project.log(`experiment-${n}`, (exp) => fill(exp, n));
      await project.save();
      return project.size;
    }),
  // 4. 100 look-ups by short slug (the open is not timed; the first look-up builds the index and is).
  w4: async () => {
    const project = await open("r");
    const names = Array.from({ length: LOOKUPS }, (_, j) => `experiment-${(j * 7919) % n}`);
    return time(() => {
      let found = 0;
      for (const name of names) found += Object.keys(project.get(name).metrics).length;
      return found;
    });
  },
  // 5. Repository: N versions over 50 names, saved; then 50 as-of look-ups on a read-only open.
  w5: async () => {
    const repository = await loadRepository();
    if (!repository) return { seconds: null, check: "no @labbook/repository build" };
    return runRepository(repository);
  },
  // 7. One large bytes artifact (1 GiB unless LABBOOK_BENCH_W7_BYTES), streamed in and read back (sha256 checked).
  w7: async () => {
    const size = largeSize();
    const w7dir = path.join(dir, "w7");
    await rm(w7dir, { recursive: true, force: true });
    await mkdir(w7dir, { recursive: true });
    const project = await Project.open("project.json", { storage: new LocalStorage(w7dir), mode: "w", author: "bench" });
    let t0 = performance.now();
    const exp = await project.log("large", (e) => e.logArtifact("blob", largeSource(size), { handler: "bytes" }));
    await project.save();
    const saveSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    let read = 0;
    for await (const part of await exp.openArtifactStream("blob")) read += part.byteLength;
    const loadSeconds = (performance.now() - t0) / 1000;
    if (read !== size) throw new Error(`read ${read} bytes, expected ${size}`);
    const stored = (await stat(path.join(w7dir, exp.folder, exp.artifacts[0].fname))).size;
    await rm(w7dir, { recursive: true, force: true });
    return { seconds: saveSeconds + loadSeconds, check: stored, parts: { bytes: size, save_s: saveSeconds, load_s: loadSeconds } };
  },
  "floor-w7": async () => {
    const size = largeSize();
    const parts = await largeFloor(path.join(dir, "floor-w7"), size, () => largeSource(size));
    return { seconds: parts.save_s + parts.load_s, check: parts.bytes, parts };
  },
  ...Object.fromEntries(Object.entries(floors).map(([name, fn]) => [name, () => fn(n, dir)])),
};

function largeSize() {
  return Number(process.env.LABBOOK_BENCH_W7_BYTES ?? GIB);
}

/** The large artifact's bytes: 1 MiB chunks of a fixed pattern, the same for labbook and its floor. */
async function* largeSource(size) {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  for (let k = 0; k < chunk.length; k += 4096) chunk[k] = k & 0xff;
  for (let sent = 0; sent < size; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, size - sent));
}

async function runRepository(repository) {
  const { Repository } = repository;
  const start = Date.UTC(2024, 0, 1);
  let minute = 0;
  const clock = () => new Date(start + minute * 60_000);
  const storage = new LocalStorage(dir);
  return time(async () => {
    const repo = await Repository.open("repository.json", { storage, mode: "w", clock });
    for (let i = 0; i < n; i++) {
      minute = i;
      repo.logArtifact(`artifact-${i % REPO_NAMES}`, { i }, { handler: "json" });
    }
    await repo.save();
    const reader = await Repository.open("repository.json", { storage, mode: "r" });
    let found = 0;
    for (let j = 0; j < ASOF; j++) {
      const asof = new Date(start + asofMinute(j, n) * 60_000 + 30_000);
      const value = await reader.loadArtifact(`artifact-${(j * 7) % REPO_NAMES}`, { version: asof, match: "asof" });
      found += value.i;
    }
    return found;
  });
}

const fn = workloads[workload];
if (!fn) throw new Error(`unknown workload ${workload}`);
const result = await fn();
process.stdout.write(`${JSON.stringify({ peak_rss_mb: peakRssMb(), ...result })}\n`);
