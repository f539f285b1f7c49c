/**
 * Every code block in README.md and docs/**\/*.md runs as written. Blocks are found by scanning the
 * files, so a new page is covered as soon as it exists.
 *
 * What runs, by fence language:
 * - `ts` / `typescript` / `js` / `mjs`: the block is an ES module, run with Node (tsx for the types)
 *   in an empty temp folder whose node_modules links every workspace package by name (and their
 *   dependencies), imported through the `@labbook/source` condition: the sources, no build needed.
 * - `sh` / `bash` / `shell`: each line that runs the command (`labbook …`, `pnpm labbook …`,
 *   `pnpm -s labbook …`, `npx labbook …`) runs in the temp folder with the built command, and must
 *   exit 0. Other lines (installs, the test command) are not run: `npm install` lines must name
 *   only packages of this workspace.
 * - `python` / `py`: run with the venv's Python (lazyscribe installed) in the temp folder.
 * - `json`: must parse. Anything else (`text`, `console`, `yaml`, ...) is shown, not run: use such a
 *   language for output and for commands that must not run. A fence without a language fails.
 *
 * A block that needs set-up says so in an HTML comment on the line(s) just before its fence:
 *
 *   <!-- docs-test: runs s3 continue -->
 *
 * with any of these words:
 * - `runs`: `./runs` holds a project (experiments "baseline", "deeper-trees", "lower-learning-rate"
 *   with metrics, parameters, tags, json artifacts "features" and "config", a bytes artifact
 *   "weights", a test "holdout" with an artifact "confusion"); `./models` a repository with
 *   versions 0 and 1 of "model" and "config"; `team/labbook.registry.json` names them `runs` and `models`.
 * - `s3`: a moto S3 server on 127.0.0.1 for the block; the block sees it through the standard AWS
 *   environment (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), and
 *   every bucket the block names as `s3://<bucket>` or `bucket: "<bucket>"` exists (empty).
 * - `s3-runs`: like `runs`, in S3: `s3://team-bucket/churn` holds the same project.
 * - `mlflow`: a real MLflow tracking server (from the venv, sqlite) for the block, as MLFLOW_TRACKING_URI.
 * - `wandb-stub`: a local stub of W&B's HTTP API (W&B has no server that runs offline; this is not
 *   W&B), as WANDB_BASE_URL with a WANDB_API_KEY it accepts and WANDB_ENTITY.
 * - `tested-by=<test file>`: not run here; that test (which must read this page) runs it as written,
 *   with the files or servers it needs (a Redis, the files earlier blocks of the page describe).
 * - `continue`: run after the previous runnable block of the same file, in the same folder; a
 *   ts block continues the previous ts block's module (its code runs first, so its names are defined).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { findPython, type MlflowServer, type MotoServer, repoRoot, startMlflow, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject, openRepository } from "../src/index.js";
import { cliPath, ensureBuilt } from "./cli-helpers.js";

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
  setup: Set<string>;
}

const SETUPS = new Set(["runs", "s3", "s3-runs", "mlflow", "wandb-stub", "continue"]);
const RUNNABLE = new Set(["ts", "typescript", "js", "mjs", "sh", "bash", "shell", "python", "py"]);
const CLI_LINE = /^(?:npx\s+(?:-y\s+)?labbook|pnpm\s+(?:-s\s+)?labbook|labbook)(?:\s|$)/;

function markdownFiles(): string[] {
  const docs = path.join(repoRoot, "docs");
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(path.join(dir, d.name)) : d.name.endsWith(".md") ? [path.join(dir, d.name)] : [],
    );
  return [path.join(repoRoot, "README.md"), ...(existsSync(docs) ? walk(docs).sort() : [])];
}

/** The fenced blocks of a markdown file, with the set-up words of the comment just before each. */
function parseBlocks(file: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const [, indent = "", fence = "```", info = ""] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] ?? "").trimStart().startsWith(fence); i++) body.push((lines[i] ?? "").slice(indent.length));
    let j = start - 1;
    while (j >= 0 && (lines[j] ?? "").trim() === "") j--;
    const comment = /^<!--\s*docs-test:(.*?)-->\s*$/.exec((lines[j] ?? "").trim());
    const setup = new Set((comment?.[1] ?? "").split(/\s+/).filter(Boolean));
    blocks.push({ file: path.relative(repoRoot, file), line: start + 1, lang: info.trim().split(/\s+/)[0] ?? "", code: body.join("\n"), setup });
  }
  return blocks;
}

const blocks = markdownFiles().flatMap((f) => parseBlocks(f, readFileSync(f, "utf8")));
const workspaceNames = new Map<string, string>(
  ["packages", "tooling"].flatMap((root) =>
    existsSync(path.join(repoRoot, root))
      ? readdirSync(path.join(repoRoot, root))
          .map((d) => path.join(repoRoot, root, d))
          .filter((d) => existsSync(path.join(d, "package.json")))
          .map((d) => [JSON.parse(readFileSync(path.join(d, "package.json"), "utf8")).name as string, d] as [string, string])
      : [],
  ),
);

/** Peer dependencies the workspace packages name (zod, bullmq...): a docs page may tell users to install them. */
const peerNames = new Set(
  [...workspaceNames.values()].flatMap((d) => Object.keys(JSON.parse(readFileSync(path.join(d, "package.json"), "utf8")).peerDependencies ?? {})),
);

/** tsx's loader, from whichever workspace package has it installed. */
function tsxLoader(): string {
  for (const dir of [repoRoot, ...workspaceNames.values()]) {
    const loader = path.join(dir, "node_modules", "tsx", "dist", "loader.mjs");
    if (existsSync(loader)) return loader;
  }
  throw new Error("tsx is not installed in any workspace package: run pnpm install");
}

let moto: MotoServer | undefined;
let mlflow: MlflowServer | undefined;
// The W&B stub runs in its own process: blocks run with spawnSync, which would stall a stub in this one.
let wandb: { url: string; apiKey: string; child: ChildProcess } | undefined;
let base: string;
let bin: string;
let modules: string;

beforeAll(async () => {
  await ensureBuilt();
  base = await mkdtemp(path.join(tmpdir(), "labbook-docs-examples-"));
  // A labbook command on the PATH, as a user has it after npm install --global labbook.
  bin = path.join(base, "bin");
  await mkdir(bin);
  await writeFile(path.join(bin, "labbook"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} "$@"\n`, { mode: 0o755 });
  // Every workspace package by its name, then the packages they depend on (first one wins).
  modules = path.join(base, "node_modules");
  await mkdir(path.join(modules, "@labbook"), { recursive: true });
  const linked = new Set<string>();
  const link = async (name: string, target: string) => {
    if (linked.has(name) || name.startsWith(".")) return;
    linked.add(name);
    await mkdir(path.dirname(path.join(modules, name)), { recursive: true });
    await symlink(target, path.join(modules, name), "dir");
  };
  for (const [name, dir] of workspaceNames) await link(name, dir);
  for (const dir of workspaceNames.values()) {
    const nm = path.join(dir, "node_modules");
    if (!existsSync(nm)) continue;
    for (const entry of await readdir(nm)) {
      if (entry.startsWith("@")) for (const sub of await readdir(path.join(nm, entry))) await link(`${entry}/${sub}`, path.join(nm, entry, sub));
      else await link(entry, path.join(nm, entry));
    }
  }
  if (blocks.some((b) => b.setup.has("s3") || b.setup.has("s3-runs"))) {
    moto = await startMoto();
    if (!moto) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
  }
  if (blocks.some((b) => b.setup.has("mlflow"))) {
    mlflow = await startMlflow({ timeoutMs: 300_000 });
    if (!mlflow) throw new Error("mlflow is missing: run bash tooling/ci/setup.sh");
  }
  if (blocks.some((b) => b.setup.has("wandb-stub"))) {
    const script = path.join(repoRoot, "tooling", "testing", "src", "wandb-stub-process.ts");
    const child = spawn(process.execPath, ["--no-warnings", "--import", tsxLoader(), script], { stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        if (out.includes("\n")) resolve(out.split("\n")[0] as string);
      });
      child.once("exit", (code) => reject(new Error(`the W&B stub exited with ${code}`)));
    });
    wandb = { ...(JSON.parse(line) as { url: string; apiKey: string }), child };
  }
}, 600_000);

afterAll(async () => {
  await moto?.stop();
  await mlflow?.stop();
  wandb?.child.kill();
  if (base) await rm(base, { recursive: true, force: true });
});

function s3Env(server: MotoServer): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    AWS_REGION: server.region,
    AWS_CONFIG_FILE: path.join(base, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(base, "no-aws-credentials"),
  };
}

/** The files the `runs` set-up leaves in `dir`: a project like the demo's and a repository. */
async function seedRuns(location: (name: string) => string, s3?: MotoServer): Promise<void> {
  const options = s3 ? { s3: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true } } : {};
  let now = Date.UTC(2024, 4, 1, 10, 0, 0);
  const project = await openProject(location("runs"), { mode: "w", author: "ada", clock: () => new Date(now), ...options });
  for (const [i, [name, auc, depth, tags]] of (
    [
      ["baseline", 0.86, 4, ["baseline"]],
      ["deeper trees", 0.89, 8, ["trees"]],
      ["lower learning rate", 0.92, 6, ["trees", "best"]],
    ] as const
  ).entries()) {
    now = Date.UTC(2024, 4, 1, 10, 0, i);
    await project.log(name, async (exp) => {
      exp.logParameter("learning_rate", 0.1 / (i + 1));
      exp.logParameter("model", { depth });
      exp.logMetric("auc", auc);
      exp.tag(...tags);
      exp.logArtifact("features", { columns: ["age", "income"] }, { handler: "json" });
      exp.logArtifact("config", { depth, seed: i }, { handler: "json" });
      exp.logArtifact("weights", new Uint8Array([i, 1, 2, 3]), { handler: "bytes" });
      await exp.logTest("holdout", { description: "customers who joined in 2024" }, (test) => {
        test.logMetric("auc", auc - 0.02);
        test.logArtifact(
          "confusion",
          [
            [50, 3],
            [4, 43],
          ],
          { handler: "json" },
        );
      });
    });
  }
  await project.save();
  const models = await openRepository(location("models"), { mode: "w+", clock: () => new Date(now), ...options });
  for (const version of [0, 1]) {
    now = Date.UTC(2024, 3, 3 + version, 0, 0, 0); // before the runs, so promoting a run makes a new version
    models.logArtifact("model", { weights: [0.1 * version, 0.2] }, { handler: "json" });
    models.logArtifact("config", { depth: 4 + version }, { handler: "json" });
    await models.save();
  }
}

function bucketsIn(code: string): string[] {
  return [
    ...new Set([...code.matchAll(/s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/g), ...code.matchAll(/bucket:\s*"([a-z0-9.-]+)"/g)].map((m) => m[1] as string)),
  ];
}

function run(command: string, args: string[], cwd: string, env: Record<string, string>, what: string): void {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  expect(result.status, `${what} failed (exit ${result.status}${result.error ? `, ${result.error.message}` : ""}):\n${output.slice(-4000)}`).toBe(0);
}

/** Runs one file's runnable blocks in order (each in its own folder unless it continues the last). */
async function runFile(file: string, fileBlocks: Block[]): Promise<void> {
  let dir = "";
  let module: string[] = [];
  let env: Record<string, string> = {};
  for (const [index, block] of fileBlocks.entries()) {
    const where = `${file}:${block.line} (${block.lang})`;
    const unknown = [...block.setup].filter((w) => !SETUPS.has(w) && !w.startsWith("tested-by="));
    expect(unknown, `${where}: unknown docs-test words`).toEqual([]);
    // A block that needs files or servers of its own is run as written by the named test instead.
    const testedBy = [...block.setup].find((w) => w.startsWith("tested-by="))?.slice("tested-by=".length);
    if (testedBy !== undefined) {
      const test = path.join(repoRoot, testedBy);
      expect(existsSync(test) && readFileSync(test, "utf8").includes(path.basename(file)), `${where}: ${testedBy} must exist and read ${file}`).toBe(true);
      continue;
    }
    if (!block.setup.has("continue") || dir === "") {
      dir = await mkdtemp(path.join(base, `${path.basename(file, ".md")}-${index}-`));
      await symlink(modules, path.join(dir, "node_modules"), "dir");
      module = [];
      env = { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", LABBOOK_REGISTRY: "" };
      if (block.setup.has("s3") || block.setup.has("s3-runs")) {
        if (!moto) throw new Error("no moto server");
        Object.assign(env, s3Env(moto));
        for (const bucket of bucketsIn(block.code)) await moto.createBucket(bucket).catch(() => {});
      }
      if (block.setup.has("mlflow")) {
        if (!mlflow) throw new Error("no MLflow server");
        env.MLFLOW_TRACKING_URI = mlflow.url;
      }
      if (block.setup.has("wandb-stub")) {
        if (!wandb) throw new Error("no W&B stub");
        Object.assign(env, { WANDB_BASE_URL: wandb.url, WANDB_API_KEY: wandb.apiKey, WANDB_ENTITY: "labbook-docs" });
      }
      if (block.setup.has("runs")) {
        await seedRuns((name) => path.join(dir, name));
        await mkdir(path.join(dir, "team"));
        await writeFile(
          path.join(dir, "team", "labbook.registry.json"),
          JSON.stringify({ projects: { runs: "../runs" }, repositories: { models: "../models" } }),
        );
      }
      if (block.setup.has("s3-runs") && moto) {
        await moto.createBucket("team-bucket").catch(() => {});
        await seedRuns((name) => (name === "runs" ? "s3://team-bucket/churn" : "s3://team-bucket/models"), moto);
      }
    } else if (block.setup.has("s3") && moto) {
      for (const bucket of bucketsIn(block.code)) await moto.createBucket(bucket).catch(() => {});
    }
    if (["ts", "typescript", "js", "mjs"].includes(block.lang)) {
      module = [...module, block.code];
      const entry = path.join(dir, `block-${index}.mts`);
      await writeFile(entry, module.join("\n\n"));
      run(process.execPath, ["--conditions=@labbook/source", "--no-warnings", "--import", tsxLoader(), entry], dir, env, where);
    } else if (["sh", "bash", "shell"].includes(block.lang)) {
      const commands = block.code
        .replace(/\\\n\s*/g, " ")
        .split("\n")
        .map((l) => l.trim());
      for (const command of commands) {
        const install = /^npm\s+install\s+(.*)$/.exec(command.replace(/\s+#.*$/, ""));
        if (install) {
          const names = (install[1] ?? "").split(/\s+/).filter((w) => w && !w.startsWith("-"));
          for (const name of names)
            expect(
              workspaceNames.has(name) || peerNames.has(name),
              `${where}: npm install ${name}: not a package of this workspace or a peer one of them names`,
            ).toBe(true);
        }
        if (!CLI_LINE.test(command)) continue;
        const asCommand = command.replace(/^(?:npx\s+(?:-y\s+)?|pnpm\s+(?:-s\s+)?)/, "");
        run("bash", ["-c", `set -o pipefail; ${asCommand}`], dir, env, `${where}: ${command}`);
      }
    } else if (["python", "py"].includes(block.lang)) {
      const python = findPython();
      if (!python) throw new Error("no Python venv: run bash tooling/ci/setup.sh");
      await writeFile(path.join(dir, `block-${index}.py`), block.code);
      run(python, [`block-${index}.py`], dir, env, where);
    }
  }
}

describe("docs examples run as written", () => {
  it("finds the blocks, and every fence has a language", () => {
    expect(blocks.length).toBeGreaterThan(20);
    const bare = blocks.filter((b) => b.lang === "").map((b) => `${b.file}:${b.line}`);
    expect(bare, "fences without a language (use ts, sh, json, text, ...)").toEqual([]);
  });

  it.each(blocks.filter((b) => b.lang === "json").map((b) => [`${b.file}:${b.line}`, b] as const))("%s parses as JSON", (_, block) => {
    expect(() => JSON.parse(block.code)).not.toThrow();
  });

  const byFile = new Map<string, Block[]>();
  for (const b of blocks.filter((x) => RUNNABLE.has(x.lang))) byFile.set(b.file, [...(byFile.get(b.file) ?? []), b]);
  it.each([...byFile])(
    "%s",
    async (file, fileBlocks) => {
      await runFile(file, fileBlocks);
    },
    600_000,
  );
});
