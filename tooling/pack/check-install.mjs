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
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files, `second-core@file:${coreTarball}`], { cwd: consumer });

  // The consumer's sources: each README's TypeScript examples, one module each (top-level await is fine).
  const sources = [];
  for (const p of packages) for (const [i, code] of tsBlocks(path.join(p.dir, "README.md")).entries()) sources.push([`${path.basename(p.dir)}-${i}.ts`, code]);
  for (const [i, code] of tsBlocks(path.join(root, "README.md")).entries()) sources.push([`root-readme-${i}.ts`, code]);
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
  for (const [name] of sources) {
    const js = path.join("dist", name.replace(/\.ts$/, ".js"));
    step(`run ${name}`);
    const out = run(process.execPath, [js], { cwd: consumer });
    if (out.trim()) console.log(out.trim().replace(/^/gm, "    "));
  }
  step("npx labbook --help");
  const help = run("npx", ["--no-install", "labbook", "--help"], { cwd: consumer });
  if (!/Usage: labbook/.test(help)) throw new Error(`labbook --help printed no usage:\n${help}`);
  step(`ok: ${packages.length} packages installed with npm and checked`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
