#!/usr/bin/env node
/**
 * The labbook demo: log a few experiments, save them to a local project, reopen it read-only and
 * print a table, then promote the best run's artifact into a versioned repository and pin a release.
 * Run with `pnpm demo` from the repository root; files go to ./labbook-demo (or the folder given as
 * the first argument). Run it again and the repository gains a version.
 */
import path from "node:path";
import { formatCompact } from "@labbook/core";
import { openProject } from "./open.js";
import { openRepository } from "./repository.js";
import { renderTable } from "./table.js";

const dir = path.resolve(process.argv[2] ?? "labbook-demo");
const project = await openProject(path.join(dir, "project.json"), { mode: "w", author: "demo" });

const runs = [
  { name: "baseline", lr: 0.1, depth: 3, auc: 0.81, tags: ["baseline"] },
  { name: "deeper trees", lr: 0.1, depth: 6, auc: 0.86, tags: ["trees"] },
  { name: "Lower learning rate", lr: 0.01, depth: 6, auc: 0.88, tags: ["trees", "best"] },
];

for (const run of runs) {
  await project.log(run.name, async (exp) => {
    exp.logParameter("learning_rate", run.lr);
    exp.logParameter("max_depth", run.depth);
    exp.logMetric("auc", run.auc);
    exp.logMetric("train_seconds", Math.round(10 + run.depth * 3.7));
    exp.tag(...run.tags);
    exp.logArtifact("features", { columns: ["age", "income", "tenure"], target: "churn" }, { handler: "json" });
    exp.logArtifact(
      "predictions",
      [
        { id: 1, score: run.auc - 0.1 },
        { id: 2, score: run.auc - 0.3 },
      ],
      // json, as every artifact here: Python lazyscribe (json and pickle handlers only) opens this project too.
      { handler: "json" },
    );
    await exp.logTest("holdout 2024", { description: "customers who joined in 2024" }, (test) => {
      test.logMetric("auc", run.auc - 0.02);
      test.logParameter("rows", 1200);
    });
  });
}
await project.save();

const reopened = await openProject(path.join(dir, "project.json"), { mode: "r" });
console.log(`Saved ${reopened.size} experiments to ${reopened.path}\n`);
console.log(renderTable(reopened, { ascii: !process.stdout.isTTY }));
const best = reopened.filter((e) => e.tags.includes("best"))[0];
if (best) {
  const features = await best.loadArtifact<{ columns: string[] }>("features");
  console.log(`\nBest run: ${best.slug} (auc ${best.metrics.auc}); its artifacts are in ${best.location}`);
  console.log(`features.json lists ${features.columns.length} columns; test "${best.tests[0]?.name}" has auc ${best.tests[0]?.metrics.auc}`);

  // Promote the winner's artifact into a versioned repository (saved at once) and pin a release.
  const repository = await openRepository(path.join(dir, "repository", "repository.json"));
  const promoted = await repository.promote(best, "features");
  const release = await repository.createRelease(`demo-${formatCompact(new Date())}`);
  console.log(`Promoted "features" to ${repository.path} as version ${promoted.version}; release ${release.tag} pins ${release.artifacts.length} artifact(s)`);
}
