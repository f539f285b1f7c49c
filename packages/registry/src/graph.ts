import { type DependencyResolver, type Experiment, isLabbookError, LabbookError, type Project, parseDependency } from "@labbook/core";

/** An experiment in the graph; `id` is `<project id>|<slug>`. */
export interface GraphNode {
  id: string;
  project: string;
  slug: string;
  shortSlug: string;
  name: string;
}

/** `from` depends on `to` through the stored string `dependency`. */
export interface GraphEdge {
  from: string;
  to: string;
  dependency: string;
}

/** A dependency that did not resolve: its upstream project (`reason: "project"`) or experiment is missing. */
export interface MissingDependency {
  from: string;
  dependency: string;
  key: string;
  slug: string;
  reason: "project" | "experiment";
  message: string;
}

export interface DependencyGraph {
  /** Project ids (their locations) in the order they were reached; the first is the one asked about. */
  projects: string[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  missing: MissingDependency[];
  /** Cycles between projects, each as project ids with the first repeated at the end. */
  cycles: string[][];
}

export interface DependencyGraphOptions {
  /** Resolve through this registry instead of the one the project was opened with. */
  registry?: DependencyResolver | undefined;
  /** Return the graph with its `cycles` instead of throwing DEPENDENCY_CYCLE. */
  allowCycles?: boolean | undefined;
}

/** Thrown when projects depend on each other in a cycle; `cycle` lists the project ids, the first repeated at the end. */
export class DependencyCycleError extends LabbookError {
  readonly cycle: readonly string[];
  constructor(cycle: string[]) {
    super(
      "DEPENDENCY_CYCLE",
      `Projects depend on each other in a cycle: ${cycle.join(" -> ")}. Break one of these dependencies, or pass { allowCycles: true } to get the graph anyway.`,
      { path: cycle[0] },
    );
    this.cycle = cycle;
  }
}

/**
 * The dependency graph from `project`: every experiment of it and every upstream experiment reached
 * through dependencies, transitively, with edges, the dependencies that did not resolve, and the
 * cycles between projects (each project is visited once, so cycles are never looped on).
 * DEPENDENCY_CYCLE when there is a cycle, unless `allowCycles`.
 *
 * @example
 * const { nodes, edges, missing } = await dependencyGraph(project, { registry });
 */
export async function dependencyGraph(project: Project, options: DependencyGraphOptions = {}): Promise<DependencyGraph> {
  const ids = new Map<Project, string>();
  const taken = new Set<string>();
  const projectId = (p: Project): string => {
    const known = ids.get(p);
    if (known !== undefined) return known;
    let id = p.path;
    for (let n = 2; taken.has(id); n++) id = `${p.path}#${n}`;
    ids.set(p, id);
    taken.add(id);
    return id;
  };
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const missing: MissingDependency[] = [];
  const projectEdges = new Map<string, Set<string>>();
  const queue: Array<[Project, Experiment]> = [];

  const visit = (p: Project, e: Experiment): string => {
    const id = `${projectId(p)}|${e.slug}`;
    if (!nodes.has(id)) {
      nodes.set(id, { id, project: projectId(p), slug: e.slug, shortSlug: e.shortSlug, name: e.name });
      queue.push([p, e]);
    }
    return id;
  };

  const open = async (from: Project, raw: string, experiment: Experiment): Promise<Project | LabbookError> => {
    const reference = parseDependency(raw);
    const resolver = options.registry ?? from.registry;
    try {
      if (resolver) {
        const upstream = await resolver.openUpstream(reference, from);
        if (upstream) return upstream;
      }
      return await from.openUpstream(reference, experiment);
    } catch (error) {
      // One upstream that cannot be opened (a plain file, a pipe, a malformed index) is that dependency's problem, not the listing's.
      if (isLabbookError(error)) return error;
      throw error;
    }
  };

  projectId(project);
  for (const e of project) visit(project, e);
  while (queue.length > 0) {
    const [p, e] = queue.shift() as [Project, Experiment];
    const from = `${projectId(p)}|${e.slug}`;
    for (const raw of e.dependencies) {
      const reference = parseDependency(raw);
      const upstream = await open(p, raw, e);
      if (upstream instanceof LabbookError) {
        missing.push({ from, dependency: raw, key: reference.key, slug: reference.slug, reason: "project", message: upstream.message });
        continue;
      }
      const target = upstream.find(reference.slug);
      if (!target) {
        missing.push({
          from,
          dependency: raw,
          key: reference.key,
          slug: reference.slug,
          reason: "experiment",
          message: `Experiment "${e.slug}" in ${p.path} depends on "${raw}", but the upstream project ${upstream.path} has no experiment "${reference.slug}".`,
        });
        continue;
      }
      edges.push({ from, to: visit(upstream, target), dependency: raw });
      if (upstream !== p) {
        const set = projectEdges.get(projectId(p)) ?? new Set<string>();
        set.add(projectId(upstream));
        projectEdges.set(projectId(p), set);
      }
    }
  }

  const cycles = findCycles(projectEdges);
  const first = cycles[0];
  if (first && !options.allowCycles) throw new DependencyCycleError(first);
  return { projects: [...ids.values()], nodes: [...nodes.values()], edges, missing, cycles };
}

/** One cycle per strongly connected group of projects, found by depth-first search. */
function findCycles(graph: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const seen = new Set<string>();
  const dfs = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === "open") {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const signature = [...new Set(cycle)].sort().join("\n");
        if (!seen.has(signature)) {
          seen.add(signature);
          cycles.push(cycle);
        }
      } else if (s === undefined) dfs(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) dfs(node);
  return cycles;
}
