// The viewer's speed figures (a benchmark, not a test): first render of a generated project in
// Debian's chromium, scrolling through the virtualised table, and the page's gzipped JavaScript.
//
//   node --import ./packages/labbook/node_modules/tsx/dist/loader.mjs --conditions=@labbook/source --no-warnings bench/viewer.ts
//   ... bench/viewer.ts --n 10000 --runs 5        another project size, more runs
//
// Builds apps/viewer first (vite), serves the project with the server from source, opens a fresh
// browser context per run (no cache) and times from navigation start to the frame where the table
// shows all N rows. Writes bench/results/viewer.json (or --out) and prints it.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { startViewer } from "../packages/labbook/src/ui/server.js";
import { makeViewerFixture } from "../packages/labbook/test/ui-fixture.js";
import { CHROMIUM_ARGS, findChromium } from "../tooling/testing/src/chromium.js";

// playwright-core is a dev dependency of the labbook package (its browser tests); load it from there.
const { chromium } = createRequire(new URL("../packages/labbook/package.json", import.meta.url))("playwright-core") as typeof import("playwright-core");

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "2000" },
    runs: { type: "string", default: "5" },
    out: { type: "string" },
    "skip-build": { type: "boolean", default: false },
  },
});
const N = Number(args.n);
const RUNS = Number(args.runs);
const log = (m: string) => process.stderr.write(`${m}\n`);

if (!args["skip-build"]) {
  log("building apps/viewer");
  execFileSync("pnpm", ["--filter", "@labbook-internal/viewer", "build"], { cwd: repoRoot, stdio: ["ignore", 2, 2] });
}
const dist = path.join(repoRoot, "apps/viewer/dist");
const assets = readdirSync(path.join(dist, "assets"));
const size = (ext: string) =>
  assets
    .filter((f) => f.endsWith(ext))
    .reduce(
      (acc, f) => {
        const body = readFileSync(path.join(dist, "assets", f));
        return { raw: acc.raw + body.byteLength, gzip: acc.gzip + gzipSync(body, { level: 9 }).byteLength };
      },
      { raw: 0, gzip: 0 },
    );

const entry = /src="\/assets\/([^"]+\.js)"/.exec(readFileSync(path.join(dist, "index.html"), "utf8"))?.[1];
const firstView = entry ? gzipSync(readFileSync(path.join(dist, "assets", entry)), { level: 9 }).byteLength : undefined;

const dir = mkdtempSync(path.join(os.tmpdir(), "labbook-bench-viewer-"));
try {
  log(`generating a project of ${N} experiments`);
  const fx = await makeViewerFixture(path.join(dir, "ws"), { experiments: N });
  const viewer = await startViewer({ location: fx.project, assetsDir: dist });
  const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
  const firstRender: number[] = [];
  const scrollStep: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(viewer.url, { waitUntil: "commit" });
      // performance.now() counts from navigation start; polled every animation frame.
      const handle = await page.waitForFunction(
        (n) => {
          const count = document.querySelector('[data-testid="row-count"]')?.textContent;
          return count === `${n} of ${n}` && document.querySelector(".tr[data-index='0']") ? performance.now() : false;
        },
        N,
        { polling: "raf", timeout: 120_000 },
      );
      firstRender.push(Math.round((await handle.jsonValue()) as number));
      // Scroll to the end in 40 jumps, waiting each time for the rows at that place to be drawn.
      const steps = await page.evaluate(async (n) => {
        const el = document.querySelector('[data-testid="table"]') as HTMLElement;
        const times: number[] = [];
        for (let i = 1; i <= 40; i++) {
          const target = Math.floor(((n - 1) * i) / 40);
          const start = performance.now();
          el.scrollTop = target * 28;
          while (!document.querySelector(`.tr[data-index='${target}']`)) await new Promise(requestAnimationFrame);
          await new Promise(requestAnimationFrame);
          times.push(performance.now() - start);
        }
        return times;
      }, N);
      scrollStep.push(...steps);
      await context.close();
      log(`run ${run + 1}: first render ${firstRender.at(-1)} ms`);
    }
  } finally {
    await browser.close();
    await viewer.close();
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)] as number;
  const p95 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] as number;
  const js = size(".js");
  const css = size(".css");
  const result = {
    generated_at: new Date().toISOString().slice(0, 19),
    command: `bench/viewer.ts --n ${N} --runs ${RUNS}`,
    n: N,
    machine: { cores: os.cpus().length, node: process.version, load_average: os.loadavg().map((l) => Number(l.toFixed(2))) },
    first_render_ms: { median: median(firstRender), max: Math.max(...firstRender), runs: firstRender },
    scroll_step_ms: { median: Number(median(scrollStep).toFixed(1)), p95: Number(p95(scrollStep).toFixed(1)) },
    javascript: {
      raw_bytes: js.raw,
      gzip_bytes: js.gzip,
      gzip_kb: Number((js.gzip / 1024).toFixed(1)),
      // The chunk index.html loads; the compare page's chunk (uPlot) follows on first use.
      first_view_gzip_bytes: firstView,
    },
    css: { raw_bytes: css.raw, gzip_bytes: css.gzip },
  };
  const out = path.resolve(args.out ?? path.join(here, "results", N === 2000 ? "viewer.json" : `viewer-${N}.json`));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
