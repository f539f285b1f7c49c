#!/usr/bin/env node
// Installs the packed tarballs of every public package into a fresh folder outside the workspace,
// with npm (not pnpm), the way a user gets them, then checks from there:
//   1. a consumer project type-checks against the published types with strict,
//      exactOptionalPropertyTypes and skipLibCheck: false (the TypeScript blocks of every package
//      README and of the root README's example are the consumer's source files);
//   2. those examples run, compiled by that same tsc;
//   3. `npx labbook --help` works;
//   4. two installed copies of @labbook/core recognise each other's errors (the brand).
// Usage: node tooling/pack/check-install.mjs (after `pnpm build`). Prints one line per step.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(tmpdir(), "labbook-pack-"));
const keep = process.argv.includes("--keep");
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

/** ```ts blocks of a markdown file. */
function tsBlocks(file) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
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

  const consumer = path.join(work, "consumer");
  mkdirSync(path.join(consumer, "src"), { recursive: true });
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  step(`npm install ${files.length} tarballs into ${consumer}`);
  const coreTarball = files.find((f) => path.basename(f).startsWith("labbook-core-"));
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files, `second-core@file:${coreTarball}`, "bullmq@^5.81.0"], { cwd: consumer });

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
  writeFileSync(
    path.join(consumer, "tsconfig.json"),
    JSON.stringify(
      {
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
      },
      null,
      2,
    ),
  );
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
  } finally {
    servers.stop();
  }
  step("npx labbook --help");
  const help = run("npx", ["--no-install", "labbook", "--help"], { cwd: consumer });
  if (!/Usage: labbook/.test(help)) throw new Error(`labbook --help printed no usage:\n${help}`);
  step(`ok: ${packages.length} packages installed with npm and checked`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
