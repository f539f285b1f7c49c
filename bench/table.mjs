// The README's bench tables, generated from a report: `node bench/table.mjs [report.json]` prints
// markdown (default bench/results/latest.json), so the README can be refreshed from any run.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ratio } from "./lib.mjs";

/** Seconds for a table: three significant digits, in ms below 0.1 s. */
export function formatSeconds(s) {
  if (s === null || s === undefined) return "—";
  if (s < 0.1) return `${Number((s * 1000).toPrecision(3))} ms`;
  return `${Number(s.toPrecision(3))} s`;
}

/** A summary cell: the median, with the range of the runs when there was more than one. */
export function formatStats(stats) {
  if (!stats) return "—";
  const median = formatSeconds(stats.median);
  if (stats.runs.length < 2) return median;
  return `${median} (${formatSeconds(stats.min)}–${formatSeconds(stats.max)})`;
}

/** a/b as "1.2×", or "—". */
function times(a, b) {
  const r = ratio(a, b);
  if (r === null) return "—";
  return `${r >= 10 ? Math.round(r) : r}×`;
}

const mb = (bytes) => `${Number((bytes / 1e6).toPrecision(3))} MB`;
const load = (l) => (l ? `${l["1m"]} / ${l["5m"]} / ${l["15m"]}` : "?");

/** The markdown of the README's bench section tables (no heading), from a bench report. */
export function renderTables(report) {
  const lines = [];
  const m = report.machine ?? {};
  const fs = m.scratch ? `${m.scratch.type}${m.scratch.tmpfs ? " (in memory)" : ""}` : "?";
  const mlflow = report.mode?.with_mlflow;
  lines.push(
    `Run of ${report.generated_at} UTC (\`${report.command}\`, ${report.total_s} s): ${m.cpu}, ${m.cores} cores, Node ${m.node}` +
      `${m.lazyscribe ? `, lazyscribe ${m.lazyscribe}` : ""}${m.mlflow ? `, MLflow ${m.mlflow}` : ""}; scratch on ${fs}; ` +
      `load average (1/5/15 min) ${load(report.load?.start)} at the start, ${load(report.load?.end)} at the end. ` +
      `Median of ${report.mode?.runs} interleaved runs (fastest–slowest); floors and labbook alternate.`,
  );
  lines.push("");
  const header = ["workload", "labbook", "honest floor", "labbook / floor", "lazyscribe", "vs lazyscribe"];
  if (mlflow) header.push("MLflow sqlite", "vs MLflow");
  lines.push(`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`);
  for (const [id, w] of Object.entries(report.workloads ?? {})) {
    const lb = w.labbook?.median;
    const row = [
      `${id.slice(1)}. ${w.title}`,
      formatStats(w.labbook),
      formatStats(w.floor),
      times(lb, w.floor?.median),
      formatStats(w.lazyscribe),
      w.lazyscribe ? `${times(w.lazyscribe.median, lb)} faster` : "—",
    ];
    if (mlflow) row.push(formatStats(w.mlflow), w.mlflow ? `${times(w.mlflow.median, lb)} faster` : "—");
    lines.push(`| ${row.join(" | ")} |`);
  }
  if ((report.append ?? []).length > 0) {
    lines.push("");
    const head = ["append one (workload 3) at N", "file", "labbook", "floor: read + write the bytes", "labbook / floor", "labbook peak RSS", "lazyscribe"];
    if (mlflow) head.push("MLflow sqlite");
    lines.push(`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`);
    for (const a of report.append) {
      const row = [
        a.n.toLocaleString("en-US"),
        mb(a.file_bytes),
        formatStats(a.labbook),
        formatStats(a.floor),
        times(a.labbook?.median, a.floor?.median),
        a.labbook_peak_rss_mb ? `${Math.round(a.labbook_peak_rss_mb)} MB (${ratio(a.labbook_peak_rss_mb * 1024 * 1024, a.file_bytes)}× the file)` : "—",
        formatStats(a.lazyscribe),
      ];
      if (mlflow) row.push(formatStats(a.mlflow));
      lines.push(`| ${row.join(" | ")} |`);
    }
  }
  const big = report.large_artifact;
  if (big) {
    lines.push("");
    const size = `${Number((big.bytes / 1024 ** 3).toPrecision(3))} GiB`;
    const rate = (stats) => (stats ? `${Math.round(big.bytes / 1e6 / stats.median)} MB/s` : "—");
    lines.push("| large artifact | labbook | honest floor | labbook speed / floor speed |", "| --- | --- | --- | --- |");
    lines.push(
      `| save ${size} (stream, sha256, temp + link) | ${formatStats(big.save)}, ${rate(big.save)} | ${formatStats(big.save_floor)}, ${rate(big.save_floor)} | ${ratio(big.save_floor?.median, big.save?.median) ?? "—"} |`,
    );
    lines.push(
      `| load ${size} (stream, sha256 check) | ${formatStats(big.load)}, ${rate(big.load)} | ${formatStats(big.load_floor)}, ${rate(big.load_floor)} | ${ratio(big.load_floor?.median, big.load?.median) ?? "—"} |`,
    );
  }
  const cli = report.cli;
  if (cli) {
    lines.push("");
    lines.push("| command start-up | median (fastest–slowest) |", "| --- | --- |");
    lines.push(`| \`node -e 0\` | ${formatStats(cli.node)} |`);
    lines.push(`| \`labbook --help\` | ${formatStats(cli.help)} |`);
    lines.push(`| \`labbook ls\` on the ${(cli.n ?? report.n).toLocaleString("en-US")}-experiment project | ${formatStats(cli.ls)} |`);
  }
  if ((report.goals ?? []).length > 0) {
    lines.push("");
    lines.push("| goal (issue 20) | this run | target | met |", "| --- | --- | --- | --- |");
    for (const g of report.goals) lines.push(`| ${g.goal} | ${g.value ?? "not measured"} | ${g.target} | ${g.met === null ? "—" : g.met ? "yes" : "no"} |`);
  }
  return `${lines.join("\n")}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "results", "latest.json");
  process.stdout.write(renderTables(JSON.parse(readFileSync(file, "utf8"))));
}
