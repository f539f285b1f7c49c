import { dependencyGraph, type GraphEdge } from "@labbook/registry";
import { commandRegistry, readProject } from "./locations.js";
import { print, printJson } from "./output.js";

/** `labbook deps`: the dependency tree of a project's experiments, across projects and storages. */
export async function deps(location: string, options: { json?: boolean }): Promise<void> {
  const project = await readProject(location);
  const registry = await commandRegistry();
  const graph = await dependencyGraph(project, { allowCycles: true, ...(registry ? { registry } : {}) });
  if (options.json) {
    printJson(graph);
    return;
  }
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const out = new Map<string, GraphEdge[]>();
  for (const e of graph.edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const missing = new Map<string, typeof graph.missing>();
  for (const m of graph.missing) missing.set(m.from, [...(missing.get(m.from) ?? []), m]);
  const root = graph.projects[0];
  const label = (id: string) => {
    const n = nodes.get(id);
    if (!n) return id;
    return n.project === root ? n.slug : `${n.slug}  (${n.project})`;
  };
  const lines: string[] = [];
  const walk = (id: string, indent: string, seen: Set<string>) => {
    const children = [
      ...(out.get(id) ?? []).map((e) => ({ text: label(e.to), id: e.to as string | undefined })),
      ...(missing.get(id) ?? []).map((m) => ({ text: `MISSING ${m.dependency}: ${m.message}`, id: undefined })),
    ];
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      const again = child.id !== undefined && seen.has(child.id);
      lines.push(`${indent}${last ? "└─ " : "├─ "}${child.text}${again ? "  (cycle)" : ""}`);
      if (child.id !== undefined && !again) walk(child.id, indent + (last ? "   " : "│  "), new Set([...seen, child.id]));
    });
  };
  let withDeps = 0;
  for (const n of graph.nodes) {
    if (n.project !== root || (!out.has(n.id) && !missing.has(n.id))) continue;
    withDeps++;
    lines.push(n.slug);
    walk(n.id, "", new Set([n.id]));
  }
  if (withDeps === 0) lines.push(`No experiment in ${project.path} has dependencies.`);
  if (graph.missing.length > 0) lines.push("", `${graph.missing.length} dependency(ies) did not resolve.`);
  for (const cycle of graph.cycles) lines.push("", `Cycle between projects: ${cycle.join(" -> ")}`);
  print(lines.join("\n"));
}
