import { type ArtifactEntry, type Experiment, joinKey, type Project, slugify } from "@labbook/core";
import { formatCell, renderGrid } from "../table.js";
import { readProject } from "./locations.js";
import { formatBytes, print, printJson, tableOptions } from "./output.js";
import { experimentIn } from "./suggest.js";

async function artifactInfo(project: Project, folder: string, entry: ArtifactEntry) {
  const key = joinKey(folder, entry.fname);
  // Python rewrites drop labbook's `size`, so ask the storage when the entry has none.
  const size = entry.size ?? (await project.storage.stat(key))?.size ?? null;
  return {
    name: entry.name,
    handler: entry.handler,
    version: entry.version,
    fname: entry.fname,
    size,
    sha256: entry.sha256 ?? null,
    created_at: entry.created_at,
    expiry: entry.expiry,
    path: project.storage.describe(key),
  };
}

type ArtifactInfo = Awaited<ReturnType<typeof artifactInfo>>;

/** The `--json` shape of `labbook show`. */
export async function experimentDetails(project: Project, e: Experiment) {
  const r = e.toRecord();
  const folder = e.folder;
  return {
    slug: r.slug,
    short_slug: r.short_slug,
    name: r.name,
    author: r.author,
    created_at: r.created_at,
    last_updated: r.last_updated,
    last_updated_by: r.last_updated_by,
    tags: r.tags,
    dependencies: r.dependencies,
    metrics: r.metrics,
    parameters: r.parameters,
    location: e.location,
    artifacts: await Promise.all(r.artifacts.map((a) => artifactInfo(project, folder, a))),
    tests: await Promise.all(
      r.tests.map(async (t) => ({
        name: t.name,
        description: t.description,
        metrics: t.metrics,
        parameters: t.parameters,
        artifacts: await Promise.all(t.artifacts.map((a) => artifactInfo(project, joinKey(folder, slugify(t.name)), a))),
      })),
    ),
  };
}

function keyValues(values: Record<string, unknown>, indent: string): string {
  const entries = Object.entries(values);
  if (entries.length === 0) return `${indent}(none)`;
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${indent}${k.padEnd(width)}  ${formatCell(v)}`).join("\n");
}

function artifactTable(artifacts: ArtifactInfo[], indent: string): string {
  if (artifacts.length === 0) return `${indent}(none)`;
  const table = tableOptions();
  const grid = renderGrid(
    ["name", "handler", "size", "version", "file"],
    artifacts.map((a) => [a.name, a.handler, formatBytes(a.size), String(a.version), a.fname]),
    { ...table, ...(table.maxWidth ? { maxWidth: table.maxWidth - indent.length } : {}) },
  );
  return grid
    .split("\n")
    .map((line) => indent + line)
    .join("\n");
}

export async function show(location: string, slug: string, options: { json?: boolean }): Promise<void> {
  const project = await readProject(location);
  const details = await experimentDetails(project, experimentIn(project, slug));
  if (options.json) {
    printJson(details);
    return;
  }
  const lines = [
    `${details.name} (${details.slug})`,
    `  short slug:    ${details.short_slug}`,
    `  author:        ${details.author}`,
    `  created:       ${details.created_at}`,
    `  last updated:  ${details.last_updated} by ${details.last_updated_by}`,
    `  tags:          ${details.tags.join(", ") || "(none)"}`,
    `  location:      ${details.location}`,
    "",
    "Metrics:",
    keyValues(details.metrics, "  "),
    "",
    "Parameters:",
    keyValues(details.parameters, "  "),
    "",
    "Artifacts:",
    artifactTable(details.artifacts, "  "),
    "",
    "Dependencies:",
    details.dependencies.length === 0 ? "  (none)" : details.dependencies.map((d) => `  ${d}`).join("\n"),
    "",
    `Tests (${details.tests.length}):`,
  ];
  if (details.tests.length === 0) lines.push("  (none)");
  for (const t of details.tests) {
    lines.push(`  ${t.name}${t.description ? ` - ${t.description}` : ""}`);
    lines.push("    metrics:", keyValues(t.metrics, "      "));
    lines.push("    parameters:", keyValues(t.parameters, "      "));
    lines.push("    artifacts:", artifactTable(t.artifacts, "      "));
  }
  print(lines.join("\n"));
}
