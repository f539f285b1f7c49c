import { type Experiment, LabbookError, type Project } from "@labbook/core";

/**
 * Edit distance (insertions, deletions, substitutions). Written here rather than taken from a
 * package: a dozen lines for the one place the command needs it.
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** Up to `limit` candidates close to `wanted` (a typo, or one that starts with it), closest first. */
export function closeMatches(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const w = wanted.toLowerCase();
  const scored = [...new Set(candidates)]
    .map((c) => {
      const lower = c.toLowerCase();
      const distance = lower.startsWith(w) || w.startsWith(lower) ? 0 : editDistance(w, lower);
      return { c, distance };
    })
    .filter(({ c, distance }) => distance <= Math.max(2, Math.floor(Math.min(w.length, c.length) / 3)))
    .sort((x, y) => x.distance - y.distance || x.c.localeCompare(y.c));
  return scored.slice(0, limit).map((x) => x.c);
}

/** The experiment `slug` names (slug or short slug), or NOT_FOUND naming the closest ones. */
export function experimentIn(project: Project, slug: string): Experiment {
  const found = project.find(slug);
  if (found) return found;
  const near = closeMatches(
    slug,
    project.experiments.flatMap((e) => [e.shortSlug, e.slug]),
  );
  const hint = near.length > 0 ? ` Did you mean ${near.map((n) => `"${n}"`).join(", ")}?` : project.size > 0 ? " Run labbook ls to see its experiments." : "";
  throw new LabbookError("NOT_FOUND", `No experiment "${slug}" in ${project.path}.${hint}`, { path: project.path });
}
