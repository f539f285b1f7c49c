// Part of `labbook`'s build: ship the viewer's built page (apps/viewer/dist) as dist/viewer, so
// `labbook ui` needs no extra install and no network. turbo builds the viewer first (turbo.json).
import { cpSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const from = path.resolve(here, "../../../apps/viewer/dist");
const to = path.resolve(here, "../dist/viewer");
if (!existsSync(path.join(from, "index.html"))) {
  console.error(`copy-viewer: ${from} has no index.html; build the viewer first (pnpm turbo run build --filter=labbook builds it).`);
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
console.log(`copy-viewer: ${path.relative(process.cwd(), from)} -> ${path.relative(process.cwd(), to)}`);
