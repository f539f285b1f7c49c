// The honest floors: the best plain-Node way to do each workload's work with labbook's guarantees,
// so "labbook / floor" says what labbook's own code costs. Each runs in its own process, like
// labbook's side (bench/labbook_worker.mjs floor-w1 ...). What each does:
//
// floor-w1  log N and save: builds the same N records (20 metrics, 20 parameters, 2 tags, 2 json
//           artifacts with sha256 and size) and writes the 2N artifact files as labbook does, create-only
//           and atomic: open a temp file "wx", write, close, link() to the final name, unlink the temp,
//           with 16 experiments in flight (labbook's ARTIFACT_WRITE_CONCURRENCY). Then the index:
//           JSON.stringify(records, null, 4) to a temp file, fsync, rename, fsync the folder (labbook
//           fsyncs the index on every save, not the artifacts).
// floor-w2  open read-only and read a metric of each: read project.json, JSON.parse, sum metric_05.
// floor-w3  append one: read the index file's bytes and write them back atomically and durably
//           (temp file, fsync, rename, fsync the folder). No parse: the least any append can do with
//           one JSON file.
// floor-w5  repository: N versions of {"i": i} over 50 names, each file sha256-hashed and written
//           create-only as in floor-w1 (versions of one name in order, 16 names in flight, as
//           labbook's Repository.save does), the index written durably; then read + parse the index
//           and 50 as-of look-ups (latest version of the name at or before the time; read + parse its file).
// floor-w7  a large bytes artifact: save = stream the same 1 MiB chunks through sha256 into a temp file,
//           link it into place, unlink the temp (no fsync, as labbook's artifacts); load = read the file
//           in 1 MiB chunks through sha256 and compare with the stored digest.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { link, mkdir, open, readFile, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pipeline } from "node:stream/promises";
import { ASOF, asofMinute, METRICS, metric, PARAMS, REPO_NAMES } from "./data.mjs";

export const CONCURRENCY = 16;

let tempCount = 0;
const tempName = (file) => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempCount++}.tmp`);
const pad = (k) => String(k).padStart(2, "0");
const isoSeconds = (date) => date.toISOString().slice(0, 19);

/** Run fn over items with at most `limit` in flight. */
async function forEachLimit(items, limit, fn) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Create `file` atomically and only if absent: temp "wx", write, close, link, unlink. */
async function createFile(file, bytes) {
  const temp = tempName(file);
  const handle = await open(temp, "wx");
  try {
    await handle.writeFile(bytes);
  } finally {
    await handle.close();
  }
  await link(temp, file);
  await unlink(temp);
}

/** Replace `file` atomically and durably: temp, write, fsync, rename, fsync the folder. */
async function replaceDurably(file, bytes) {
  const temp = tempName(file);
  const handle = await open(temp, "wx");
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const folder = await open(path.dirname(file), "r");
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

async function time(fn) {
  const t0 = performance.now();
  const check = await fn();
  return { seconds: (performance.now() - t0) / 1000, check };
}

export const floors = {
  "floor-w1": (n, dir) =>
    time(async () => {
      const now = isoSeconds(new Date());
      const stamp = now.replace(/[-:T]/g, "");
      const records = new Array(n);
      await forEachLimit(
        Array.from({ length: n }, (_, i) => i),
        CONCURRENCY,
        async (i) => {
          const name = `experiment-${i}`;
          const slug = `${name}-${stamp}`;
          const metrics = {};
          for (let k = 0; k < METRICS; k++) metrics[`metric_${pad(k)}`] = metric(i, k);
          const parameters = {};
          for (let k = 0; k < PARAMS; k++) parameters[`param_${pad(k)}`] = `value-${(i + k) % 97}-${k}`;
          const values = [
            ["config", { i, lr: 0.001 * ((i % 10) + 1), layers: [64, 32, 16] }],
            ["summary", { i, scores: [1, 2, 3, 4, 5].map((k) => metric(i, k)) }],
          ];
          const folder = path.join(dir, slug);
          await mkdir(folder, { recursive: true });
          const artifacts = [];
          for (const [artifact, value] of values) {
            const bytes = Buffer.from(JSON.stringify(value));
            const fname = `${artifact}-${stamp}.json`;
            const digest = sha256(bytes);
            await createFile(path.join(folder, fname), bytes);
            artifacts.push({ created_at: now, expiry: null, fname, handler: "json", name: artifact, sha256: digest, size: bytes.byteLength, version: 0 });
          }
          records[i] = {
            artifacts,
            author: "bench",
            created_at: now,
            dependencies: [],
            last_updated: now,
            last_updated_by: "bench",
            metrics,
            name,
            parameters,
            short_slug: name,
            slug,
            tags: ["bench", `group-${i % 10}`],
            tests: [],
          };
        },
      );
      await replaceDurably(path.join(dir, "project.json"), JSON.stringify(records, null, 4));
      return records.length;
    }),

  "floor-w2": (_n, dir) =>
    time(async () => {
      const records = JSON.parse(await readFile(path.join(dir, "project.json"), "utf8"));
      let total = 0;
      for (const record of records) total += record.metrics.metric_05;
      return Math.round(total * 1e6) / 1e6;
    }),

  "floor-w3": (_n, dir) =>
    time(async () => {
      const file = path.join(dir, "project.json");
      const bytes = await readFile(file);
      await replaceDurably(file, bytes);
      return bytes.byteLength;
    }),

  "floor-w5": (n, dir) =>
    time(async () => {
      const start = Date.UTC(2024, 0, 1);
      const byName = new Map();
      for (let i = 0; i < n; i++) {
        const name = `artifact-${i % REPO_NAMES}`;
        byName.set(name, [...(byName.get(name) ?? []), i]);
      }
      const entries = new Array(n);
      await forEachLimit([...byName.entries()], CONCURRENCY, async ([name, versions]) => {
        const folder = path.join(dir, name);
        await mkdir(folder, { recursive: true });
        let version = 0;
        for (const i of versions) {
          const createdAt = isoSeconds(new Date(start + i * 60_000));
          const bytes = Buffer.from(JSON.stringify({ i }));
          const fname = `${name}-${createdAt.replace(/[-:T]/g, "")}.json`;
          const digest = sha256(bytes);
          await createFile(path.join(folder, fname), bytes);
          entries[i] = { created_at: createdAt, expiry: null, fname, handler: "json", name, sha256: digest, size: bytes.byteLength, version: version++ };
        }
      });
      const index = path.join(dir, "repository.json");
      await replaceDurably(index, JSON.stringify(entries, null, 4));
      const stored = JSON.parse(await readFile(index, "utf8"));
      let found = 0;
      for (let j = 0; j < ASOF; j++) {
        const name = `artifact-${(j * 7) % REPO_NAMES}`;
        const asof = isoSeconds(new Date(start + asofMinute(j, n) * 60_000 + 30_000));
        let best;
        for (const entry of stored) if (entry.name === name && entry.created_at <= asof) best = entry;
        found += JSON.parse(await readFile(path.join(dir, name, best.fname), "utf8")).i;
      }
      return found;
    }),
};

/** The large-artifact floor: returns save and load seconds separately. */
export async function largeFloor(dir, size, source) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, "blob.bin");
  let t0 = performance.now();
  const hash = createHash("sha256");
  const temp = tempName(file);
  await pipeline(
    (async function* () {
      for await (const chunk of source()) {
        hash.update(chunk);
        yield chunk;
      }
    })(),
    createWriteStream(temp, { flags: "wx" }),
  );
  await link(temp, file);
  await unlink(temp);
  const digest = hash.digest("hex");
  const saveSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const check = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    check.update(chunk);
    bytes += chunk.byteLength;
  }
  if (check.digest("hex") !== digest || bytes !== size) throw new Error("floor-w7: the bytes read back differ");
  const loadSeconds = (performance.now() - t0) / 1000;
  await rm(dir, { recursive: true, force: true });
  return { save_s: saveSeconds, load_s: loadSeconds, bytes };
}
