/**
 * `labbook export` against a real MLflow 3.17 server (started for this file from the venv on
 * 127.0.0.1): summary, --json, --dry-run, --filter, and typed failures with exit code 1.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { findMlflow, freePort, type MlflowServer, startMlflow } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject } from "../src/index.js";
import { ensureBuilt, labbook } from "./cli-helpers.js";

let mlflow: MlflowServer | undefined;
let tmp = "";
let dir = "";

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "labbook-export-"));
  dir = path.join(tmp, "runs");
  const project = await openProject(dir, { mode: "w", author: "ada" });
  for (const [i, name] of ["baseline", "wider", "deeper"].entries()) {
    await project.log(name, async (e) => {
      e.logParameter("width", 10 * (i + 1));
      for (let step = 0; step < 3; step++) e.logMetric("loss", 1 / (step + i + 1), { step });
      e.tag(i === 0 ? "baseline" : "candidate");
    });
  }
  await project.save();
  if (findMlflow() !== undefined) mlflow = await startMlflow();
}, 240_000);

afterAll(async () => {
  await mlflow?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(findMlflow() === undefined)("labbook export --to mlflow", () => {
  it("--dry-run says what would happen and sends nothing", () => {
    const before = readFileSync(path.join(dir, "project.json"), "utf8");
    const r = labbook(["export", dir, "--to", "mlflow", "--tracking-uri", mlflow?.url ?? "", "--experiment", "cli", "--dry-run", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: "mlflow", dryRun: true, created: 3, updated: 0, unchanged: 0 });
    expect(readFileSync(path.join(dir, "project.json"), "utf8")).toBe(before);
  });

  it("exports, then finds everything unchanged; --filter picks experiments", async () => {
    const args = ["export", dir, "--to", "mlflow", "--experiment", "cli"];
    const env = { MLFLOW_TRACKING_URI: mlflow?.url ?? "" };
    const first = labbook([...args, "--filter", "tags has candidate"], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Exported 2 experiment\(s\) to http:\/\/127\.0\.0\.1:\d+ experiment "cli": 2 created, 0 updated, 0 unchanged\.$/m);
    const second = labbook([...args, "--json"], { env });
    expect(JSON.parse(second.stdout)).toMatchObject({ created: 1, updated: 0, unchanged: 2 });
    const count = await mlflow?.python<number>(`result = len(client.search_runs([client.get_experiment_by_name("cli").experiment_id]))`);
    expect(count).toBe(3);
  });

  it("a server that is down exits 1 with a typed message", async () => {
    const r = labbook(["export", dir, "--to", "mlflow", "--tracking-uri", `http://127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot reach MLflow at http:\/\/127\.0\.0\.1:\d+ .*\[UNREACHABLE\]/);
  });

  it("an unknown backend is bad usage (exit 2)", () => {
    const r = labbook(["export", dir, "--to", "neptune"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Allowed choices are mlflow, wandb");
  });
});
