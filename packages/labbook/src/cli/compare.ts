import type { Experiment } from "@labbook/core";
import { formatCell, renderGrid } from "../table.js";
import { readProject } from "./locations.js";
import { print, printJson, tableOptions, UsageError } from "./output.js";
import { experimentIn } from "./suggest.js";

/** Canonical text of a value for "are these the same?" (key order does not matter). */
function canonical(value: unknown): string {
  if (value === undefined) return "<absent>";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return Number.isNaN(value) ? "NaN" : (JSON.stringify(value) ?? String(value));
}

/** The `--json` shape of `labbook compare`: one row per parameter and metric, values in argument order. */
export function comparison(experiments: Experiment[]) {
  const rows: { field: string; values: unknown[]; differs: boolean }[] = [];
  for (const section of ["parameters", "metrics"] as const) {
    const names = [...new Set(experiments.flatMap((e) => Object.keys(e.toRecord()[section])))].sort();
    for (const name of names) {
      const values = experiments.map((e) => (Object.hasOwn(e.toRecord()[section], name) ? e.toRecord()[section][name] : undefined));
      rows.push({ field: `${section}.${name}`, values: values.map((v) => v ?? null), differs: new Set(values.map(canonical)).size > 1 });
    }
  }
  return {
    experiments: experiments.map((e) => ({ slug: e.slug, short_slug: e.shortSlug, name: e.name, created_at: e.toRecord().created_at })),
    rows,
  };
}

export async function compare(location: string, slugs: string[], options: { json?: boolean; differences?: boolean }): Promise<void> {
  if (slugs.length < 2) throw new UsageError("compare needs at least two experiments, for example: labbook compare ./runs baseline deeper-trees");
  const project = await readProject(location);
  const experiments = slugs.map((s) => experimentIn(project, s));
  const result = comparison(experiments);
  if (options.differences) result.rows = result.rows.filter((r) => r.differs);
  if (options.json) {
    printJson(result);
    return;
  }
  // Short slugs as headings unless two are the same (the same run name logged twice).
  const short = result.experiments.map((e) => e.short_slug);
  const head = new Set(short).size === short.length ? short : result.experiments.map((e) => e.slug);
  const grid = renderGrid(
    ["", "field", ...head],
    result.rows.map((r) => [r.differs ? "*" : "", r.field, ...r.values.map((v) => (v === null ? "-" : formatCell(v)))]),
    tableOptions(),
  );
  print(`${grid}\n* = differs (${result.rows.filter((r) => r.differs).length} of ${result.rows.length}); - = absent`);
}
