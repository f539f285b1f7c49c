/**
 * What the built command loads, not how long it takes (timings belong in bench/): `labbook --help`
 * loads commander and no library code; `labbook ls` loads the project reader and none of what it
 * does not use (zod, the yaml and csv handlers' libraries, the AWS SDK, the registry, the repository and
 * its diff library, the exporters). Each run records its modules with a loader hook.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject, renderTable } from "../src/index.js";
import { cliPath, ensureBuilt } from "./cli-helpers.js";

const hook = path.join(path.dirname(fileURLToPath(import.meta.url)), "module-log-hook.mjs");

/** Packages by the path fragment of their files (pnpm's store, an npm install, or a workspace folder). */
const pkg = (name: string) => new RegExp(`/node_modules/${name.replace("/", "\\/")}/`);
const workspace = (dir: string) => new RegExp(`/packages/${dir}/|/node_modules/@labbook/${dir}/`);

const NEVER_AT_START = {
  zod: pkg("zod"),
  yaml: pkg("yaml"),
  "@aws-sdk": /\/node_modules\/@aws-sdk\//,
  "@labbook/storage-s3": workspace("storage-s3"),
};
const NOT_FOR_LS = {
  // A valid project is read without zod: the fast checks validate it, zod loads only for the message about an invalid file.
  zod: pkg("zod"),
  yaml: pkg("yaml"),
  "csv-parse": pkg("csv-parse"),
  "csv-stringify": pkg("csv-stringify"),
  diff: pkg("diff"),
  // Every cell of that project is printable ASCII: string-width (an Intl.Segmenter to build) is not needed.
  "string-width": pkg("string-width"),
  "@aws-sdk": /\/node_modules\/@aws-sdk\//,
  "@labbook/storage-s3": workspace("storage-s3"),
  "@labbook/registry": workspace("registry"),
  "@labbook/repository": workspace("repository"),
  "@labbook/tracking": workspace("tracking"),
  "@labbook/pipeline": workspace("pipeline"),
  "@labbook/bullmq": workspace("bullmq"),
};

let tmp: string;

/** Run the command with the hook; returns the module URLs it loaded. */
function loaded(args: string[]): string[] {
  const log = path.join(tmp, `modules-${args.join("_").replace(/[^\w.-]/g, "")}.txt`);
  const result = spawnSync(process.execPath, ["--import", hook, cliPath, ...args], {
    cwd: tmp,
    encoding: "utf8",
    env: { ...process.env, LABBOOK_MODULE_LOG: log },
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

const matching = (modules: string[], patterns: Record<string, RegExp>) =>
  Object.entries(patterns)
    .filter(([, re]) => modules.some((m) => re.test(m)))
    .map(([name]) => name);

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "labbook-startup-"));
  // A project with yaml and csv artifacts and a dependency: ls must still load none of their libraries.
  const project = await openProject(path.join(tmp, "runs"), { mode: "w", author: "ada" });
  await project.log("upstream", (exp) => {
    exp.logMetric("auc", 0.8);
  });
  await project.save();
  const upstream = project.get("upstream");
  await project.log("model", (exp) => {
    exp.logMetric("auc", 0.9);
    exp.logParameter("lr", 0.1);
    exp.logArtifact("settings", { depth: 3 }, { handler: "yaml" });
    exp.logArtifact("rows", [{ a: 1 }], { handler: "csv" });
    exp.addDependency(upstream);
  });
  await project.save();
  // A project with wide cells (CJK, emoji): ls must measure them with string-width.
  const wide = await openProject(path.join(tmp, "wide"), { mode: "w", author: "ada" });
  await wide.log("漢字", (exp) => {
    exp.logParameter("note", "日本語のメモ");
    exp.logMetric("auc", 0.5);
  });
  await wide.log("plain", (exp) => {
    exp.logParameter("note", "ascii 🎉");
  });
  await wide.save();
}, 600_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("what the labbook command loads", () => {
  it("--help: commander, and no library code", () => {
    const modules = loaded(["--help"]);
    expect(modules.some((m) => pkg("commander").test(m))).toBe(true);
    expect(matching(modules, NEVER_AT_START)).toEqual([]);
    expect(modules.filter((m) => workspace("core").test(m))).toEqual([]);
  });

  it("ls: the project reader and local storage, nothing ls does not use", () => {
    const modules = loaded(["ls", "runs", "--json"]);
    expect(modules.some((m) => /\/packages\/core\/|\/@labbook\/core\//.test(m) && m.endsWith("/project.js"))).toBe(true);
    expect(modules.some((m) => workspace("storage-local").test(m))).toBe(true);
    expect(matching(modules, NOT_FOR_LS)).toEqual([]);
  });

  it("ls with wide cells: loads string-width and aligns them as the library's renderTable does", async () => {
    const modules = loaded(["ls", "wide"]);
    expect(modules.some((m) => pkg("string-width").test(m))).toBe(true);
    const result = spawnSync(process.execPath, [cliPath, "ls", "wide"], { cwd: tmp, encoding: "utf8" });
    expect(result.stderr).toBe("");
    const project = await openProject(path.join(tmp, "wide"), { mode: "r" });
    expect(result.stdout.trimEnd()).toBe(renderTable(project, { style: "plain" }));
    expect(result.stdout).toContain("日本語のメモ");
  });
});
