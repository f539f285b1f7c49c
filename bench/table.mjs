// The README's bench tables, generated from a report: `node bench/table.mjs [report.json]` prints
// markdown (default bench/results/latest.json), so the README can be refreshed from any run.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ratio } from "./lib.mjs";

/** Seconds for a table, three significant digits: in ms below 0.1 s (or in the unit `like` picks). */
export function formatSeconds(s, like = s) {
  if (s === null || s === undefined) return "—";
  if (like < 0.1) return `${Number((s * 1000).toPrecision(3))} ms`;
  return `${Number(s.toPrecision(3))} s`;
}

/** A summary cell: the median, with the range of the runs (in the median's unit) when there was more than one. */
export function formatStats(stats) {
  if (!stats) return "—";
  const median = formatSeconds(stats.median);
  if (stats.runs.length < 2) return median;
  const bare = (s) => formatSeconds(s, stats.median).replace(/ (ms|s)$/, "");
  return `${median} (${bare(stats.min)}–${bare(stats.max)})`;
}

/** a/b as "1.2×" (whole numbers from 10×), or "—". */
export function times(a, b) {
  const r = ratio(a, b);
  if (r === null) return "—";
  return `${r >= 10 ? Math.round(r) : r}×`;
}

/** How much faster labbook is than another side: "12× faster", "2.5× slower", or "—". */
export function speedup(other, labbook) {
  const r = ratio(other, labbook);
  if (r === null) return "—";
  if (r >= 1) return `${times(other, labbook)} faster`;
  return `${times(labbook, other)} slower`;
}

/** Bytes as MiB below 1 GiB, else GiB. */
function sizeOf(bytes) {
  if (bytes < 1024 ** 3) return `${Number((bytes / 1024 ** 2).toPrecision(3))} MiB`;
  return `${Number((bytes / 1024 ** 3).toPrecision(3))} GiB`;
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
      `${m.lazyscribe ? `, lazyscribe ${m.lazyscribe}${m.lazyscribe_venv ? ` (in a venv of ${m.lazyscribe_venv.distributions} distributions)` : ""}` : ""}` +
      `${m.mlflow ? `, MLflow ${m.mlflow}` : ""}; scratch on ${fs}; ` +
      `load average (1/5/15 min) ${load(report.load?.start)} at the start, ${load(report.load?.end)} at the end. ` +
      `Labbook and floors: median of ${report.mode?.runs} interleaved runs (fastest–slowest in brackets); ` +
      `lazyscribe: ${report.mode?.lazyscribe_runs} run${report.mode?.lazyscribe_runs === 1 ? "" : "s"}${mlflow ? "; MLflow: 1 run" : ""}.`,
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
      speedup(w.lazyscribe?.median, lb),
    ];
    if (mlflow) row.push(formatStats(w.mlflow), speedup(w.mlflow?.median, lb));
    lines.push(`| ${row.join(" | ")} |`);
  }
  if ((report.append ?? []).length > 0) {
    lines.push("");
    const head = [
      "append one (workload 3) at N",
      "file",
      "labbook",
      "floor: read + write the bytes",
      "labbook / floor",
      "labbook peak RSS (floor's)",
      "lazyscribe",
    ];
    if (mlflow) head.push("MLflow sqlite");
    lines.push(`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`);
    for (const a of report.append) {
      const row = [
        a.n.toLocaleString("en-US"),
        mb(a.file_bytes),
        formatStats(a.labbook),
        formatStats(a.floor),
        times(a.labbook?.median, a.floor?.median),
        a.labbook_peak_rss_mb
          ? `${Math.round(a.labbook_peak_rss_mb)} MB = ${ratio(a.labbook_peak_rss_mb * 1024 * 1024, a.file_bytes)}× the file (${Math.round(a.floor_peak_rss_mb ?? 0)} MB)`
          : "—",
        formatStats(a.lazyscribe),
      ];
      if (mlflow) row.push(formatStats(a.mlflow));
      lines.push(`| ${row.join(" | ")} |`);
    }
  }
  const big = report.large_artifact;
  if (big) {
    lines.push("");
    const size = sizeOf(big.bytes);
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
