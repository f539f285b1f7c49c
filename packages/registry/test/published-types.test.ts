import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

// The declarations as tsconfig.build.json publishes them (stripInternal): no @internal member of
// Registry is in them (openUpstream is public: core's DependencyResolver). tooling/pack/surface/internal-surface.ts checks the packed tarball.
const run = promisify(execFile);
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsc = path.resolve(dir, "../../node_modules/typescript/bin/tsc");

it("published .d.ts files hold no @internal member", async () => {
  const out = await mkdtemp(path.join(tmpdir(), "labbook-registry-dts-"));
  try {
    await run(
      process.execPath,
      [tsc, "-p", "tsconfig.build.json", "--outDir", out, "--emitDeclarationOnly", "--declarationMap", "false", "--sourceMap", "false"],
      { cwd: dir },
    );
    const files = (await readdir(out, { recursive: true, encoding: "utf8" })).filter((f) => f.endsWith(".d.ts"));
    expect(files).toContain("registry.d.ts");
    for (const f of files) expect(await readFile(path.join(out, f), "utf8"), f).not.toContain("@internal");
    const registry = await readFile(path.join(out, "registry.d.ts"), "utf8");
    expect(registry).toMatch(/class Registry<R = unknown> implements DependencyResolver/);
    expect(registry).toContain("openUpstream(reference: DependencyReference, from: Project): Promise<Project | undefined>;");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 120_000);
