// `pnpm labbook <args>` from the repository root: build the labbook command if needed (turbo's cache
// makes this instant when nothing changed), then run it in the folder pnpm was started from.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "packages/labbook/dist/cli.js");
if (!existsSync(cli)) process.stderr.write("labbook: building the packages first (about a minute the first time)...\n");
// The build's own output is shown only when it fails, so the command's output stays the command's.
const build = spawnSync("pnpm", ["exec", "turbo", "run", "build", "--filter=labbook", "--output-logs=errors-only"], {
  cwd: root,
  encoding: "utf8",
  stdio: ["ignore", "pipe", "pipe"],
});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ""}${build.stderr ?? ""}labbook: building the command failed (above); fix it and run again.\n`);
  process.exit(build.status ?? 1);
}
const run = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], { cwd: process.env.INIT_CWD ?? process.cwd(), stdio: "inherit" });
process.exit(run.status ?? 1);
