#!/usr/bin/env node
// Installs the packed tarballs of every public package into a fresh folder outside the workspace,
// with npm (not pnpm), the way a user gets them, then checks from there:
//   1. a consumer project type-checks against the published types with strict,
//      exactOptionalPropertyTypes and skipLibCheck: false (the TypeScript blocks of every package
//      README and of the root README's example are the consumer's source files);
//   2. those examples run, compiled by that same tsc;
//   3. `npx labbook --help` works;
//   4. two installed copies of @labbook/core recognise each other's errors (the brand);
//   5. a second consumer, local disk only, installs `labbook` WITHOUT @labbook/storage-s3 (an
//      optional peer): no AWS SDK in its node_modules, its install size printed beside the full
//      one's, the umbrella README's example and `npx labbook ls` run, it type-checks (skipLibCheck:
//      false) with no S3 package to resolve, and s3:// fails in the library and in the command with
//      MISSING_DEPENDENCY saying `npm install @labbook/storage-s3`.
// Usage: node tooling/pack/check-install.mjs [--keep] [--local-only] (after `pnpm build`).
// --local-only checks only the local-disk consumer (step 5; no servers needed). One line per step.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(tmpdir(), "labbook-pack-"));
const keep = process.argv.includes("--keep");
const localOnly = process.argv.includes("--local-only");
const started = Date.now();
const step = (text) => console.log(`[pack-check ${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);

function run(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });
  } catch (error) {
    console.error(`[pack-check] failed: ${cmd} ${args.join(" ")}\n${error.stdout ?? ""}${error.stderr ?? ""}`);
    process.exitCode = 1;
    throw new Error(`${cmd} exited with ${error.status ?? error.signal}`);
  }
}

/** The public packages: packages/* that are not private. */
const packages = readdirSync(path.join(root, "packages"))
  .map((name) => ({ dir: path.join(root, "packages", name) }))
  .map((p) => ({ ...p, manifest: JSON.parse(readFileSync(path.join(p.dir, "package.json"), "utf8")) }))
  .filter((p) => !p.manifest.private);

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Wait until `probe` resolves true (polling every 200 ms) or throw after `seconds`. */
async function waitFor(what, seconds, probe) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${seconds} s (run bash tooling/ci/setup.sh)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The servers the package READMEs talk to, each on 127.0.0.1 and a free port; stopped afterwards. */
async function startServers(work) {
  const venvBin = path.join(process.env.LABBOOK_VENV ?? path.join(root, ".venv"), "bin");
  const children = [];
  const env = {};
  try {
    const motoPort = await freePort();
    children.push(spawn(path.join(venvBin, "moto_server"), ["-H", "127.0.0.1", "-p", String(motoPort)], { stdio: "ignore" }));
    await waitFor("moto_server", 60, async () => (await fetch(`http://127.0.0.1:${motoPort}/team-lab`, { method: "PUT" })).ok);
    // A host name, not the IP, so the S3 example also checks path-style addressing for such endpoints.
    Object.assign(env, {
      AWS_ENDPOINT_URL_S3: `http://localhost:${motoPort}`,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
    });

    const redisPort = await freePort();
    children.push(
      spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work], { stdio: "ignore" }),
    );
    await waitFor(
      "redis-server",
      30,
      () =>
        new Promise((resolve) => {
          const socket = connect(redisPort, "127.0.0.1", () => {
            socket.end();
            resolve(true);
          });
          socket.on("error", () => resolve(false));
        }),
    );
    env.REDIS_PORT = String(redisPort);

    const mlflowPort = await freePort();
    const mlflowDir = path.join(work, "mlflow");
    mkdirSync(mlflowDir);
    children.push(
      spawn(
        path.join(venvBin, "mlflow"),
        [
          "server",
          "--host",
          "127.0.0.1",
          "--port",
          String(mlflowPort),
          "--workers",
          "1",
          "--backend-store-uri",
          `sqlite:///${path.join(mlflowDir, "mlflow.db")}`,
          "--artifacts-destination",
          path.join(mlflowDir, "artifacts"),
          "--serve-artifacts",
        ],
        { stdio: "ignore", env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false" } },
      ),
    );
    await waitFor("mlflow server", 180, async () => (await fetch(`http://127.0.0.1:${mlflowPort}/health`)).ok);
    env.MLFLOW_TRACKING_URI = `http://127.0.0.1:${mlflowPort}`;
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  }
  return {
    env,
    stop: () => {
      for (const child of children) child.kill();
    },
  };
}

/** Bytes of the files under `dir` (apparent sizes, symlinks not followed), the way `du -sb` counts them. */
function treeBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? treeBytes(full) : lstatSync(full).size;
  }
  return total;
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The tsconfig of a strict consumer: exactOptionalPropertyTypes, skipLibCheck false. */
function consumerTsconfig() {
  return {
    compilerOptions: {
      target: "ES2023",
      lib: ["ES2023"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      types: ["node"],
      typeRoots: [path.join(root, "node_modules/@types")],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      outDir: "dist",
      rootDir: "src",
    },
    include: ["src"],
  };
}

/**
 * A user who works on local disk only: `npm install labbook` without @labbook/storage-s3. Returns
 * the size of its node_modules. The tarballs of the workspace packages stand in for the registry.
 */
function checkLocalOnly(files) {
  const consumer = path.join(work, "consumer-local");
  mkdirSync(path.join(consumer, "src"), { recursive: true });
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer-local", private: true, type: "module" }, null, 2));
  const withoutS3 = files.filter((f) => !path.basename(f).startsWith("labbook-storage-s3-"));
  if (withoutS3.length !== files.length - 1) throw new Error("expected exactly one @labbook/storage-s3 tarball");
  step(`local-only consumer: npm install ${withoutS3.length} tarballs (no @labbook/storage-s3) into ${consumer}`);
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...withoutS3], { cwd: consumer });
  const modules = path.join(consumer, "node_modules");
  for (const absent of ["@aws-sdk", "@smithy", "@labbook/storage-s3"])
    if (existsSync(path.join(modules, absent)))
      throw new Error(`local-only consumer: node_modules/${absent} was installed; npm install labbook must not bring it`);
  const bytes = treeBytes(modules);
  step(`local-only consumer: no @aws-sdk, @smithy or @labbook/storage-s3; node_modules ${mb(bytes)}`);

  // The umbrella README's example, as a user pastes it (plain JS: it has no type annotations).
  const [example] = tsBlocks(path.join(root, "packages/labbook/README.md"));
  writeFileSync(path.join(consumer, "example.mjs"), example);
  step("local-only consumer: run the labbook README example and npx labbook ls");
  run(process.execPath, ["example.mjs"], { cwd: consumer });
  const listing = run("npx", ["--no-install", "labbook", "ls", "./runs", "--json"], { cwd: consumer });
  const listed = JSON.parse(listing);
  if (listed.length !== 1 || listed[0].metrics?.auc !== 0.91) throw new Error(`labbook ls printed the wrong experiments:\n${listing}`);

  // Types: the published .d.ts files must not need the absent package (skipLibCheck: false).
  writeFileSync(
    path.join(consumer, "src", "s3-types.ts"),
    [
      'import { openProject, type S3LocationOptions } from "labbook";',
      'const s3: S3LocationOptions = { region: "eu-west-1", endpoint: undefined, credentials: { accessKeyId: "a", secretAccessKey: "b" } };',
      'export const open = () => openProject("s3://bucket/runs", { mode: "r", s3 });',
    ].join("\n"),
  );
  writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify(consumerTsconfig(), null, 2));
  // No bullmq either: the BullMQ integration is the subpath labbook/bullmq, so the root's types never
  // import the optional peer bullmq.
  if (existsSync(path.join(consumer, "node_modules", "bullmq"))) throw new Error("the local-only consumer has bullmq installed");
  step("local-only consumer: type-check against labbook's types without @labbook/storage-s3 or bullmq installed");
  run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "."], { cwd: consumer });

  step("local-only consumer: s3:// in the library and in the command says which package to install");
  const library = run(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      'import { openProject } from "labbook"; try { await openProject("s3://bucket/runs", { mode: "r" }); console.log("opened"); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }',
    ],
    { cwd: consumer },
  );
  const thrown = JSON.parse(library);
  if (thrown.code !== "MISSING_DEPENDENCY" || !thrown.message.includes("npm install @labbook/storage-s3"))
    throw new Error(`openProject("s3://...") without @labbook/storage-s3 gave ${library}`);
  const cli = spawnSync("npx", ["--no-install", "labbook", "ls", "s3://bucket/runs"], { cwd: consumer, encoding: "utf8" });
  if (cli.status !== 1 || !cli.stderr.includes("npm install @labbook/storage-s3") || !cli.stderr.includes("[MISSING_DEPENDENCY]"))
    throw new Error(`labbook ls s3://... without @labbook/storage-s3: exit ${cli.status}, stderr:\n${cli.stderr}`);
  console.log(`    ${cli.stderr.trim()}`);
  return bytes;
}

/** ```ts blocks of a markdown file. */
function tsBlocks(file) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** The full consumer: every tarball, the README examples against real servers, two copies of core. */
async function checkFull(files, localBytes) {
  const consumer = path.join(work, "consumer");
  mkdirSync(path.join(consumer, "src"), { recursive: true });
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  step(`npm install ${files.length} tarballs into ${consumer}`);
  const coreTarball = files.find((f) => path.basename(f).startsWith("labbook-core-"));
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files, `second-core@file:${coreTarball}`, "bullmq@^5.81.0"], { cwd: consumer });
  const fullBytes = treeBytes(path.join(consumer, "node_modules"));
  const sdkBytes = ["@aws-sdk", "@smithy"].reduce(
    (sum, dir) => sum + (existsSync(path.join(consumer, "node_modules", dir)) ? treeBytes(path.join(consumer, "node_modules", dir)) : 0),
    0,
  );
  step(
    `install sizes: local only ${mb(localBytes)}; with @labbook/storage-s3 (and a second core) ${mb(fullBytes)}, of which @aws-sdk + @smithy ${mb(sdkBytes)}`,
  );

  // The consumer's sources: each README's TypeScript examples, one module each (top-level await is fine).
  const sources = [];
  for (const p of packages) for (const [i, code] of tsBlocks(path.join(p.dir, "README.md")).entries()) sources.push([`${path.basename(p.dir)}-${i}.ts`, code]);
  for (const [i, code] of tsBlocks(path.join(root, "README.md")).entries()) sources.push([`root-readme-${i}.ts`, code]);
  // The published surface: @ts-expect-error lines in tooling/pack/surface/ fail the type-check when an internal is reachable again.
  for (const f of readdirSync(path.join(root, "tooling/pack/surface")))
    sources.push([`surface-${f}`, readFileSync(path.join(root, "tooling/pack/surface", f), "utf8")]);
  sources.push([
    "two-copies.ts",
    [
      'import { LabbookError, isLabbookError } from "@labbook/core";',
      'import * as second from "second-core";',
      'const foreign = new second.LabbookError("CONFLICT", "thrown by the second copy");',
      'if (second.LabbookError === LabbookError) throw new Error("expected two copies of core");',
      'if (!(foreign instanceof LabbookError) || !isLabbookError(foreign, "CONFLICT")) throw new Error("the brand did not hold across copies");',
      'console.log("two copies of core: errors recognised across them");',
    ].join("\n"),
  ]);
  for (const [name, code] of sources) writeFileSync(path.join(consumer, "src", name), `${code}\nexport {};\n`);
  writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify(consumerTsconfig(), null, 2));
  step(`type-check ${sources.length} consumer files (strict, exactOptionalPropertyTypes, skipLibCheck: false)`);
  run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "."], { cwd: consumer });
  step("start moto, redis-server and an MLflow server for the examples that use them");
  const servers = await startServers(work);
  try {
    for (const [name] of sources) {
      const js = path.join("dist", name.replace(/\.ts$/, ".js"));
      step(`run ${name}`);
      const out = run(process.execPath, [js], { cwd: consumer, env: { ...process.env, ...servers.env } });
      if (out.trim()) console.log(out.trim().replace(/^/gm, "    "));
    }
    // With @labbook/storage-s3 installed beside it, the umbrella finds its optional peer for s3://.
    step("the umbrella on s3:// (its optional peer installed): openProject writes, npx labbook ls reads");
    const env = { ...process.env, ...servers.env };
    run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'import { openProject } from "labbook"; const p = await openProject("s3://team-lab/umbrella-check", { mode: "w", author: "ada" }); await p.log("on s3", (e) => e.logMetric("auc", 0.5)); await p.save();',
      ],
      { cwd: consumer, env },
    );
    const listed = JSON.parse(run("npx", ["--no-install", "labbook", "ls", "s3://team-lab/umbrella-check", "--json"], { cwd: consumer, env }));
    if (listed.length !== 1 || listed[0].metrics?.auc !== 0.5) throw new Error(`labbook ls s3://... printed ${JSON.stringify(listed)}`);
  } finally {
    servers.stop();
  }
  step("npx labbook --help");
  const help = run("npx", ["--no-install", "labbook", "--help"], { cwd: consumer });
  if (!/Usage: labbook/.test(help)) throw new Error(`labbook --help printed no usage:\n${help}`);
  step(`ok: ${packages.length} packages installed with npm and checked`);
}

try {
  const tarballs = path.join(work, "tarballs");
  mkdirSync(tarballs);
  for (const p of packages) {
    step(`pack ${p.manifest.name}`);
    run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: p.dir });
  }
  const files = readdirSync(tarballs).map((f) => path.join(tarballs, f));
  for (const p of packages) {
    const listing = run("tar", ["-tzf", files.find((f) => path.basename(f).startsWith(p.manifest.name.replace("@", "").replace("/", "-")))]);
    for (const needed of ["package/LICENSE", "package/README.md", "package/package.json"])
      if (!listing.split("\n").includes(needed)) throw new Error(`${p.manifest.name}: ${needed} is not in the tarball`);
  }

  const localBytes = checkLocalOnly(files);
  if (localOnly) step("ok: local-only consumer checked (--local-only: the full consumer was not installed)");
  else await checkFull(files, localBytes);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
