/**
 * Take docs/images/mlflow-exported-run.png: a labbook experiment exported to a real MLflow 3.17
 * server (from the venv), shown by MLflow's own UI in Debian's headless chromium (playwright-core).
 *
 * Run from the repository root:
 *   node --import ./packages/storage-local/node_modules/tsx/dist/loader.mjs --conditions=@labbook/source packages/tracking/scripts/screenshot-mlflow.ts
 */
import path from "node:path";
import { MemoryStorage, Project } from "@labbook/core";
import { chromium } from "playwright-core";
import { startMlflow } from "../../../tooling/testing/src/mlflow.js";
import { repoRoot } from "../../../tooling/testing/src/python.js";
import { exportProject } from "../src/index.js";

const out = path.join(repoRoot, "docs/images/mlflow-exported-run.png");
const mlflow = await startMlflow();
if (!mlflow) throw new Error("No mlflow in the venv: run bash tooling/ci/setup-tracking.sh");
try {
  const project = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w", author: "ada" });
  await project.log("train model", async (e) => {
    e.logParameter("lr", 0.01);
    e.logParameter("optimizer", { name: "adam", warmup: 5 });
    const start = Date.parse("2024-03-04T05:06:07Z");
    for (let step = 0; step < 40; step++) {
      const wobble = Math.sin(step * 1.7) * 0.03;
      e.logMetric("loss", 1.2 * Math.exp(-step / 9) + 0.1 + wobble, { step, time: start + step * 15_000 });
      e.logMetric("accuracy", 0.95 - 0.5 * Math.exp(-step / 7) + wobble / 2, { step, time: start + step * 15_000 });
    }
    e.tag("baseline");
    e.logArtifact("config", { layers: 3 }, { handler: "json" });
    await e.logTest("holdout", { description: "2024 customers" }, (t) => t.logMetric("auc", 0.91));
  });
  await project.save();
  const summary = await exportProject(project, { backend: "mlflow", trackingUri: mlflow.url, experimentName: "labbook demo" });
  const runId = summary.runs[0]?.runId;
  const experimentId = await mlflow.python<string>(`result = client.get_experiment_by_name("labbook demo").experiment_id`);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${mlflow.url}/#/experiments/${experimentId}/runs/${runId}/model-metrics`, { waitUntil: "networkidle", timeout: 120_000 });
    // Wait until both curves are drawn (plotly traces), then close the side assistant panel.
    await page.waitForFunction(() => document.querySelectorAll(".js-plotly-plot .scatterlayer .trace").length >= 2, undefined, { timeout: 120_000 });
    const assistant = page.getByText("MLflow Assistant");
    if (await assistant.isVisible().catch(() => false)) {
      const close = page
        .locator("button")
        .filter({ has: page.locator("[data-testid='close-icon'], svg") })
        .last();
      await page
        .getByRole("button", { name: /close/i })
        .last()
        .click({ timeout: 3000 })
        .catch(() => close.click({ timeout: 3000 }).catch(() => undefined));
    }
    await page.waitForTimeout(1500);
    await page.screenshot({ path: out });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
} finally {
  await mlflow.stop();
}
