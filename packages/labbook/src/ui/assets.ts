/**
 * The viewer's built files (apps/viewer's Vite output), read once into memory at start. Requests are
 * answered from this map only, so no path from a request ever reaches the file system.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { LabbookError } from "@labbook/core";

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | undefined;
  /** Vite puts a content hash in these names, so browsers may keep them for good. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/** Where the built page is: next to the built server (dist/viewer), else apps/viewer/dist in a checkout. */
export function defaultAssetsDir(): string {
  const candidates = [new URL("../viewer/", import.meta.url), new URL("../../../../apps/viewer/dist/", import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((dir) => existsSync(path.join(dir, "index.html")));
  if (!found) {
    throw new LabbookError(
      "NOT_FOUND",
      `The viewer's built page is missing (looked in ${candidates.join(" and ")}): reinstall labbook, or in a checkout run "pnpm build".`,
      { path: candidates[0] as string },
    );
  }
  return found;
}

function walk(dir: string, base: string, into: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, base, into);
    else if (entry.isFile()) into.push(path.relative(base, full).split(path.sep).join("/"));
  }
  return into;
}

/** Every file under `dir`, by URL path ("/" is index.html). */
export function loadAssets(dir: string): Map<string, Asset> {
  if (!existsSync(path.join(dir, "index.html")) || !statSync(dir).isDirectory()) {
    throw new LabbookError("NOT_FOUND", `No index.html in ${dir}: that is not a built viewer (run "pnpm build").`, { path: dir });
  }
  const assets = new Map<string, Asset>();
  for (const rel of walk(dir, dir, [])) {
    const body = readFileSync(path.join(dir, rel));
    const type = TYPES[path.extname(rel).toLowerCase()] ?? "application/octet-stream";
    const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.byteLength > 512;
    assets.set(`/${rel}`, { type, body, gzip: compressible ? gzipSync(body) : undefined, immutable: rel.startsWith("assets/") });
  }
  const index = assets.get("/index.html") as Asset;
  assets.set("/", index);
  return assets;
}
