import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

// The declarations as tsconfig.build.json publishes them (stripInternal): no @internal member of
// PipelineRecord is in them. tooling/pack/surface/internal-surface.ts checks the packed tarball.
const run = promisify(execFile);
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsc = path.resolve(dir, "../../node_modules/typescript/bin/tsc");

it("published .d.ts files hold no @internal member", async () => {
  const out = await mkdtemp(path.join(tmpdir(), "labbook-pipeline-dts-"));
  try {
    await run(
      process.execPath,
      [tsc, "-p", "tsconfig.build.json", "--outDir", out, "--emitDeclarationOnly", "--declarationMap", "false", "--sourceMap", "false"],
      { cwd: dir },
    );
    const files = (await readdir(out, { recursive: true, encoding: "utf8" })).filter((f) => f.endsWith(".d.ts"));
    expect(files).toContain("record.d.ts");
    for (const f of files) expect(await readFile(path.join(out, f), "utf8"), f).not.toContain("@internal");
    const record = await readFile(path.join(out, "record.d.ts"), "utf8");
    expect(record).toContain("stageHash(");
    for (const member of ["setLazy(", "keyOf(", "hashOf(", "runAggregate("]) expect(record, member).not.toContain(member);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 120_000);
