/// <reference lib="dom" />
/**
 * The viewer in a real browser: Debian's chromium driven by playwright-core (never a download), on
 * a generated project of 2000 experiments. Every wait is on page state (a selector, a text, a data
 * attribute), never on a sleep, so a loaded machine only makes it slower.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM_ARGS, findChromium } from "@labbook-internal/testing";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileFilter, type Experiment, openProject } from "../src/index.js";
import { startViewer, type ViewerServer } from "../src/ui/server.js";
import { makeViewerFixture, type ViewerFixture } from "./ui-fixture.js";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoDir = path.resolve(packageDir, "../..");
const viewerDir = path.join(repoDir, "apps/viewer");
const outDir = path.join(packageDir, "test-results", "viewer");
const N = 2000;
const WAIT = { timeout: 60_000 };

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** The built page (apps/viewer/dist); built here when missing or older than its sources. */
function ensureViewerBuilt(): string {
  const dist = path.join(viewerDir, "dist");
  const index = path.join(dist, "index.html");
  const stale =
    !existsSync(index) || statSync(index).mtimeMs < Math.max(newestMtime(path.join(viewerDir, "src")), statSync(path.join(viewerDir, "index.html")).mtimeMs);
  if (stale) {
    const result = spawnSync("pnpm", ["--filter", "@labbook-internal/viewer", "build"], { cwd: repoDir, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`Building the viewer failed:\n${result.stdout}\n${result.stderr}`);
  }
  return dist;
}

let dir: string;
let fx: ViewerFixture;
let viewer: ViewerServer;
let browser: Browser;
let page: Page;
let experiments: Experiment[];
const problems: string[] = [];

beforeAll(async () => {
  const assetsDir = ensureViewerBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), "labbook-ui-browser-"));
  fx = await makeViewerFixture(path.join(dir, "ws"), { experiments: N });
  experiments = [...(await openProject(fx.project, { mode: "r" })).experiments];
  viewer = await startViewer({ location: fx.registryFile, assetsDir, pollMs: 200 });
  browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // Any CSP violation, script error or failed request is a failure of the page.
  page.on("console", (m) => {
    // Failed loads are judged below by their response, where the URL is known.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    const expected = r.status() === 400 && /\/experiments\?filter=metrics.auc%20%3E%3E%201$/.test(r.url());
    if (r.status() >= 400 && !expected) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on("requestfailed", (r) => {
    // The event stream is cut when a page navigates away; anything else failing is a problem.
    if (!r.url().endsWith("/api/events")) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  mkdirSync(outDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await viewer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function shot(name: string): Promise<string> {
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const rowCount = () => page.getByTestId("row-count");
const firstRowSlug = () => page.locator(".tr[data-index='0']").getAttribute("data-slug");

/** Coloured runs across one pixel row near the bottom of a chart's plot area: one per bar drawn there. */
async function barRuns(group: string, chartTitle: string): Promise<number> {
  return page.locator(`[data-testid="${group}"] .chart[data-chart="${chartTitle}"]`).evaluate((el) => {
    const canvas = el.querySelector("canvas") as HTMLCanvasElement;
    const over = el.querySelector(".u-over") as HTMLElement;
    const ratio = canvas.width / canvas.getBoundingClientRect().width;
    const plotLeft = over.offsetLeft * ratio;
    const plotWidth = over.clientWidth * ratio;
    const y = Math.round((over.offsetTop + over.clientHeight - 4) * ratio);
    const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
    const pixels = ctx.getImageData(Math.round(plotLeft), y, Math.round(plotWidth), 1).data;
    let runs = 0;
    let inRun = false;
    for (let x = 0; x < pixels.length / 4; x++) {
      const [r, g, b, a] = [pixels[x * 4] ?? 0, pixels[x * 4 + 1] ?? 0, pixels[x * 4 + 2] ?? 0, pixels[x * 4 + 3] ?? 0];
      const coloured = a > 100 && Math.max(r, g, b) - Math.min(r, g, b) > 40;
      if (coloured && !inRun) runs++;
      inRun = coloured;
    }
    return runs;
  });
}

describe("labbook ui in chromium", () => {
  it("opens a 2000-experiment project with only the rows in sight in the DOM", async () => {
    await page.goto(viewer.url);
    await expect.poll(() => rowCount().textContent(), WAIT).toBe(`${N} of ${N}`);
    const domRows = await page.locator(".tr").count();
    expect(domRows).toBeGreaterThan(10);
    expect(domRows).toBeLessThan(100);
    await page.getByTestId("table").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.locator(`.tr[data-index='${N - 1}']`).waitFor(WAIT);
    expect(await page.locator(`.tr[data-index='${N - 1}']`).getAttribute("data-slug")).toBe(experiments[N - 1]!.slug);
    await shot("table-bottom");
    await page.getByTestId("table").evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.locator(".tr[data-index='0']").waitFor(WAIT);
  });

  it("sorts by a metric column, ascending then descending", async () => {
    const aucs = experiments.map((e) => e.metrics.auc as number);
    const lowest = experiments[aucs.indexOf(Math.min(...aucs))]!.slug;
    const highest = experiments[aucs.indexOf(Math.max(...aucs))]!.slug;
    const header = page.locator('.th[data-column="metrics.auc"]');
    await header.click();
    await expect.poll(firstRowSlug, WAIT).toBe(lowest);
    await expect.poll(() => header.getAttribute("class"), WAIT).toContain("asc");
    await header.click();
    await expect.poll(firstRowSlug, WAIT).toBe(highest);
    await header.click(); // third click: back to file order
    await expect.poll(firstRowSlug, WAIT).toBe(experiments[0]!.slug);
  });

  it("filters with the CLI's language and shows the CLI's error for a bad expression", async () => {
    const expression = "metrics.auc > 0.9 and tags has gpu";
    const expected = experiments.filter(compileFilter(expression));
    expect(expected.length).toBeGreaterThan(0);
    const input = page.getByLabel("filter");
    await input.fill(expression);
    await input.press("Enter");
    await expect.poll(() => rowCount().textContent(), WAIT).toBe(`${expected.length} of ${N}`);
    expect(await firstRowSlug()).toBe(expected[0]!.slug);
    await shot("filtered");

    let message = "";
    try {
      compileFilter("metrics.auc >> 1");
    } catch (error) {
      message = (error as Error).message;
    }
    await input.fill("metrics.auc >> 1");
    await input.press("Enter");
    await page.locator(".filter-error").waitFor(WAIT);
    expect(await page.locator(".filter-error").textContent()).toBe(message);
    await page.getByRole("button", { name: "Clear", exact: true }).click();
    await expect.poll(() => rowCount().textContent(), WAIT).toBe(`${N} of ${N}`);
    expect(await page.locator(".filter-error").count()).toBe(0);
  });

  it("adds and removes columns with the column chooser", async () => {
    await page.getByRole("button", { name: "Columns" }).click();
    await page.getByTestId("column-chooser").waitFor(WAIT);
    const header = page.locator('.th[data-column="tests"]');
    expect(await header.count()).toBe(0);
    await page.locator('input[data-column="tests"]').check();
    await header.waitFor(WAIT);
    expect(await page.locator('.tr[data-index="1"] .td[data-column="tests"]').textContent()).toBe("2");
    await page.locator('input[data-column="metrics.f1"]').uncheck();
    await page.locator('.th[data-column="metrics.f1"]').waitFor({ state: "detached", ...WAIT });
    await page.getByRole("button", { name: "Columns" }).click();
  });

  it("compares three experiments: differences marked and every chart drawn with the right number of marks", async () => {
    const chosen = fx.rich.slice(0, 3);
    for (const slug of chosen) await page.getByLabel(`select ${slug}`).check();
    await page.locator(".compare-button").click();
    await page.getByTestId("compare").waitFor(WAIT);
    const table = page.getByTestId("compare-table");
    await table.waitFor(WAIT);
    expect(await table.locator("thead th a").allTextContents()).toEqual(chosen.map((s) => experiments.find((e) => e.slug === s)!.name));
    expect(await table.locator('tr[data-field="metrics.auc"]').getAttribute("data-differs")).toBe("1");
    expect(await table.locator('tr[data-field="parameters.model.kind"]').getAttribute("data-differs")).toBe("1"); // tree, linear, tree

    // A bar per experiment in each metric's chart (counted as uPlot paints them, and on the canvas).
    for (const metric of fx.metrics) {
      const chart = page.locator(`[data-testid="metric-bars"] .chart[data-chart="${metric}"]`);
      await expect.poll(() => chart.getAttribute("data-marks"), WAIT).toBe("3");
      expect(await barRuns("metric-bars", metric)).toBe(3);
    }
    // The scatter: every experiment in view, the three chosen drawn on top.
    const scatter = page.locator('[data-testid="scatter"] .chart');
    await expect.poll(() => scatter.getAttribute("data-marks"), WAIT).toBe(String(N));
    expect(await scatter.getAttribute("data-chosen")).toBe("3");
    // Per-test metrics: a chart per test name, a group per metric, a bar per experiment.
    for (const test of ["holdout", "recent"]) {
      const chart = page.locator(`[data-testid="test-charts"] .chart[data-chart="${test}"]`);
      await expect.poll(() => chart.getAttribute("data-marks"), WAIT).toBe("6");
      expect(await barRuns("test-charts", test)).toBe(6);
    }
    // Curves by step from the metric-history artifacts: a line per experiment.
    for (const metric of ["auc", "loss"]) {
      const chart = page.locator(`[data-testid="curves"] .chart[data-chart="${metric}"]`);
      await expect.poll(() => chart.getAttribute("data-marks"), WAIT).toBe("3");
      expect(await chart.getAttribute("data-points")).toBe(String(3 * fx.historySteps));
    }
    const file = await shot("compare");
    if (process.env.LABBOOK_UPDATE_SCREENSHOTS === "1") copyFileSync(file, path.join(repoDir, "docs/images/viewer-compare.png"));
  });

  it("opens an experiment and previews json, csv, text, png and binary artifacts", async () => {
    const slug = fx.rich[1]!;
    const record = experiments.find((e) => e.slug === slug)!.record;
    await page.locator(`.compare-table thead a:text("${record.name}")`).click();
    await page.getByTestId("artifacts").waitFor(WAIT);
    const preview = async (name: string, test = "") => {
      const row = page.locator(`tr[data-artifact="${name}"][data-test="${test}"]`);
      await row.locator(".preview-button").click();
      const box = page.getByTestId("preview");
      await box.waitFor(WAIT);
      return box;
    };
    const closePreview = async (name: string, test = "") => {
      await page.locator(`tr[data-artifact="${name}"][data-test="${test}"] .preview-button`).click();
      await page.getByTestId("preview").waitFor({ state: "detached", ...WAIT });
    };

    let box = await preview("config");
    await box.locator(".json-key", { hasText: "layers" }).waitFor(WAIT);
    expect(await box.getAttribute("data-kind")).toBe("json");
    await shot("preview-json");
    await closePreview("config");

    box = await preview("predictions");
    await box.locator("table.csv-preview tbody tr").nth(5).waitFor(WAIT);
    expect(await box.locator("table.csv-preview thead th").allTextContents()).toEqual(["id", "label", "score"]);
    expect(await box.locator("table.csv-preview tbody tr").count()).toBe(6);
    await closePreview("predictions");

    box = await preview("notes");
    await box.locator("pre", { hasText: "Second line." }).waitFor(WAIT);
    await closePreview("notes");

    box = await preview("plot");
    const image = box.locator("img.preview-image");
    await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth), WAIT).toBe(48);
    await shot("preview-png");
    await closePreview("plot");

    box = await preview("weights");
    const sha = record.artifacts.find((a) => a.name === "weights")!.sha256!;
    await box.locator(".mono", { hasText: sha }).waitFor(WAIT);
    await closePreview("weights");

    box = await preview("confusion", "holdout");
    await box.locator(".json-key", { hasText: "tp" }).waitFor(WAIT);
    await closePreview("confusion", "holdout");

    // The dependency leads to the upstream experiment in the other project.
    await page.getByTestId("dependencies").locator("a").click();
    await expect.poll(() => page.locator('[data-testid="experiment"] h2').textContent(), WAIT).toContain("features-v2");
  });

  it("shows the repository: versions on a timeline with expiry, releases and a diff", async () => {
    await page.goto(`${viewer.url}#/r/models`);
    await page.getByTestId("timeline").waitFor(WAIT);
    expect(await page.locator('[data-testid="timeline"] g[data-version]').count()).toBe(3);
    expect(await page.locator('[data-testid="timeline"] text').first().textContent()).toContain("expires 2025-06-01T00:00:00");
    expect(await page.locator('[data-testid="releases"] tbody tr td:first-child').allTextContents()).toEqual(["v1", "v2"]);
    await page.locator('button[data-name="readme"]').click();
    await page.locator(".diff-text .add", { hasText: "+with more" }).waitFor(WAIT);
    await shot("repository");
  });

  it("lists pipeline runs with links to their sandboxed reports", async () => {
    await page.goto(`${viewer.url}#/p/runs/pipeline`);
    await page.getByTestId("pipelines").waitFor(WAIT);
    const rows = page.locator('[data-testid="pipelines"] tbody tr');
    await rows.nth(1).waitFor(WAIT);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-slug")))).toEqual(fx.pipelineRuns);
    const link = await rows.first().locator("a", { hasText: "report" }).getAttribute("href");
    const response = await page.request.get(new URL(link!, viewer.url).toString());
    expect(response.headers()["content-security-policy"]).toMatch(/^sandbox;/);
    expect(await response.text()).toContain("<h1>Pipeline run");
  });

  it("updates the table live when another process saves the project", async () => {
    await page.goto(`${viewer.url}#/p/runs`);
    await expect.poll(() => rowCount().textContent(), WAIT).toBe(`${N} of ${N}`);
    await expect.poll(() => page.getByTestId("live").textContent(), WAIT).toContain("live");
    const writer = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=@labbook/source", path.join(packageDir, "test/ui-writer.ts"), fx.project, "live-arrival"],
      {
        cwd: packageDir,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    writer.stdout.on("data", (c) => (output += c));
    writer.stderr.on("data", (c) => (output += c));
    const code = await new Promise<number | null>((resolve) => writer.on("close", resolve));
    expect(code, output).toBe(0);
    // No reload: the event stream tells the page, which refetches.
    await expect.poll(() => rowCount().textContent(), WAIT).toBe(`${N + 1} of ${N + 1}`);
    await page.getByTestId("table").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.locator(`.tr[data-index='${N}'] a.td`, { hasText: "live-arrival" }).waitFor(WAIT);
    await shot("live-update");
  });

  it("ran without a script error, a failed request or a CSP violation", () => {
    expect(problems).toEqual([]);
  });
});
