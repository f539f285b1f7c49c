import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Core's declarations as they are published (tsconfig.build.json: stripInternal), installed as
// node_modules/@labbook/core of a consumer with strict, exactOptionalPropertyTypes and
// skipLibCheck: false; tooling/pack/check-install.mjs checks the same file against the packed tarball.
const run = promisify(execFile);
const coreDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const root = path.resolve(coreDir, "../..");
const tsc = path.join(root, "node_modules/typescript/bin/tsc");
const surfaceFile = path.join(root, "tooling/pack/surface/core-surface.ts");
const work = mkdtempSync(path.join(tmpdir(), "labbook-published-types-"));
const installed = path.join(work, "consumer/node_modules/@labbook/core");

async function typecheck(cwd: string): Promise<string> {
  try {
    await run(process.execPath, [tsc, "-p", "."], { cwd, encoding: "utf8" });
    return "";
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ""}${stderr ?? ""}` || String(error);
  }
}

function declarations(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".d.ts"))
    .map((f) => path.join(dir, f));
}

beforeAll(async () => {
  mkdirSync(installed, { recursive: true });
  copyFileSync(path.join(coreDir, "package.json"), path.join(installed, "package.json"));
  // Core's own dependencies (zod, yaml, ...) as an installed package would find them.
  symlinkSync(path.join(coreDir, "node_modules"), path.join(installed, "node_modules"), "dir");
  await run(
    process.execPath,
    [tsc, "-p", "tsconfig.build.json", "--outDir", path.join(installed, "dist"), "--emitDeclarationOnly", "--declarationMap", "false", "--sourceMap", "false"],
    { cwd: coreDir },
  );
  const consumer = path.join(work, "consumer");
  mkdirSync(path.join(consumer, "src"));
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  copyFileSync(surfaceFile, path.join(consumer, "src/core-surface.ts"));
  writeFileSync(
    path.join(consumer, "tsconfig.json"),
    JSON.stringify({
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
        noEmit: true,
      },
      include: ["src"],
    }),
  );
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("@labbook/core's published types", () => {
  it("keep no @internal member", () => {
    const files = declarations(path.join(installed, "dist"));
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(["index.d.ts", "internal.d.ts", "experiment.d.ts"]));
    const leaks = files.filter((f) => readFileSync(f, "utf8").includes("@internal")).map((f) => path.relative(installed, f));
    expect(leaks).toEqual([]);
  });

  it("hide internals and plumbing from a strict consumer (tooling/pack/surface/core-surface.ts type-checks)", async () => {
    expect(await typecheck(path.join(work, "consumer"))).toBe("");
  }, 180_000);
});
