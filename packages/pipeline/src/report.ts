import type { StageRun } from "./record.js";
import type { ReportItem } from "./report-items.js";

/**
 * The run report: one self-contained HTML page (inline CSS, inline SVG, no script, no external
 * resource), so it opens from disk with no server and no network. The SVG is written by hand: the
 * graphs and charts are simple, and a charting library would need a browser or a bundle inlined.
 */
export interface RunSummary {
  readonly experiment: string;
  readonly description?: string | undefined;
  readonly runNumber: number;
  readonly status: "done" | "failed";
  readonly error?: string | undefined;
  readonly startedAt: string;
  readonly durationS: number;
  readonly gitCommit: string | null;
  readonly gitDirty: boolean | null;
  readonly command?: string | undefined;
  readonly notes?: string | undefined;
  readonly records: ReadonlyArray<{
    readonly name: string;
    readonly hash: string;
    readonly aggregate: boolean;
    readonly params: Readonly<Record<string, unknown>>;
    readonly stages: readonly StageRun[];
    readonly reports: ReadonlyArray<ReportItem & { stage: string | null }>;
    readonly metrics: Readonly<Record<string, number>>;
  }>;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for HTML and SVG (content and attribute values). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2330}
h1,h2,h3{font-weight:600}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d5dae3;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f4f8}code,pre{font-family:ui-monospace,monospace;font-size:12px}pre{background:#f6f7f9;padding:.5rem;overflow:auto}
.status-done{color:#177245}.status-failed{color:#b42318}.record{border-top:1px solid #d5dae3;margin-top:1.5rem}
.graph{overflow-x:auto}.legend span{margin-right:1rem}.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:middle}
`;

const STATUS_FILL: Record<StageRun["status"], string> = { cached: "#dbeafe", computed: "#dcfce7", uncached: "#fef9c3", failed: "#fee2e2" };
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#db2777"];

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? n.toExponential(2) : String(Math.round(n * 1000) / 1000);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The stage graph of one record as SVG: inputs → stage → outputs, each stage box filled by whether
 * it was cached or computed. Nodes carry `class` and `data-*` attributes for tools and tests.
 */
export function stageGraphSvg(stages: readonly StageRun[]): string {
  const colW = 190;
  const boxW = 150;
  const boxH = 40;
  const outH = 26;
  const gap = 10;
  const top = 20;
  const outTop = top + boxH + 40;
  const producer = new Map<string, { x: number; y: number }>();
  const parts: string[] = [];
  const edges: string[] = [];
  let maxOutputs = 0;
  stages.forEach((s, i) => {
    const x = 20 + i * colW;
    const cx = x + boxW / 2;
    for (const input of s.inputs) {
      const from = producer.get(input);
      // Inputs made outside this graph (a copied record's state) start at the stage's left edge.
      const [x1, y1] = from ? [from.x + boxW / 2, from.y + outH / 2] : [x - 30, top + boxH / 2];
      edges.push(
        `<path class="edge" data-from="${escapeHtml(input)}" data-to="${escapeHtml(s.stage)}" d="M${x1},${y1} C${x1 + 30},${y1} ${x - 30},${top + boxH / 2} ${x},${top + boxH / 2}" fill="none" stroke="#8a94a6" marker-end="url(#arrow)"/>`,
      );
    }
    parts.push(
      `<g class="stage" data-stage="${escapeHtml(s.stage)}" data-status="${s.status}" data-kind="${s.kind}"><title>${escapeHtml(`${s.stage}: ${s.status}, ${Math.round(s.durationMs)} ms, hash ${s.hash}`)}</title>` +
        `<rect x="${x}" y="${top}" width="${boxW}" height="${boxH}" rx="6" fill="${STATUS_FILL[s.status]}" stroke="#475569"/>` +
        `<text x="${cx}" y="${top + 17}" text-anchor="middle" font-size="13" font-weight="600">${escapeHtml(clip(s.stage, 20))}</text>` +
        `<text x="${cx}" y="${top + 32}" text-anchor="middle" font-size="10" fill="#475569">${s.status} · ${Math.round(s.durationMs)} ms</text></g>`,
    );
    s.outputs.forEach((o, k) => {
      const y = outTop + k * (outH + gap);
      producer.set(o.name, { x, y });
      edges.push(
        `<path class="edge" data-from="${escapeHtml(s.stage)}" data-to="${escapeHtml(o.name)}" d="M${cx},${top + boxH} L${cx},${y}" fill="none" stroke="#8a94a6" marker-end="url(#arrow)"/>`,
      );
      parts.push(
        `<g class="output" data-output="${escapeHtml(o.name)}" data-stage="${escapeHtml(s.stage)}" data-cached="${o.key !== null}"><title>${escapeHtml(`${o.name}: ${o.summary}${o.key ? `\n${o.key}` : ""}`)}</title>` +
          `<rect x="${x + 10}" y="${y}" width="${boxW - 20}" height="${outH}" rx="13" fill="#fff" stroke="${o.key ? "#2563eb" : "#94a3b8"}" stroke-dasharray="${o.key ? "" : "4 3"}"/>` +
          `<text x="${cx}" y="${y + 17}" text-anchor="middle" font-size="12">${escapeHtml(clip(o.name, 18))}</text></g>`,
      );
    });
    maxOutputs = Math.max(maxOutputs, s.outputs.length);
  });
  const width = Math.max(200, 40 + stages.length * colW);
  const height = outTop + maxOutputs * (outH + gap) + 10;
  return (
    `<svg class="stage-graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="stage graph">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker></defs>` +
    edges.join("") +
    parts.join("") +
    "</svg>"
  );
}

function axes(w: number, h: number, pad: number, yMin: number, yMax: number, xLabel = "", yLabel = ""): string {
  return (
    `<line class="axis" x1="${pad}" y1="${h - pad}" x2="${w - 10}" y2="${h - pad}" stroke="#475569"/>` +
    `<line class="axis" x1="${pad}" y1="10" x2="${pad}" y2="${h - pad}" stroke="#475569"/>` +
    `<text x="${pad - 4}" y="14" text-anchor="end" font-size="10">${escapeHtml(fmt(yMax))}</text>` +
    `<text x="${pad - 4}" y="${h - pad}" text-anchor="end" font-size="10">${escapeHtml(fmt(yMin))}</text>` +
    (xLabel ? `<text x="${(w + pad) / 2}" y="${h - 6}" text-anchor="middle" font-size="11">${escapeHtml(xLabel)}</text>` : "") +
    (yLabel ? `<text x="12" y="${h / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${h / 2})">${escapeHtml(yLabel)}</text>` : "")
  );
}

/** A line chart as SVG: one polyline per series. */
export function lineChartSvg(item: Extract<ReportItem, { kind: "line" }>): string {
  const w = 520;
  const h = 260;
  const pad = 48;
  const names = Object.keys(item.series);
  const all = names.flatMap((n) => [...(item.series[n] ?? [])]).filter(Number.isFinite);
  const longest = Math.max(1, ...names.map((n) => item.series[n]?.length ?? 0));
  const xs = item.x ?? Array.from({ length: longest }, (_, i) => i);
  const finiteXs = xs.filter(Number.isFinite);
  const [xMin, xMax] = [Math.min(...finiteXs, 0), Math.max(...finiteXs, 1)];
  let [yMin, yMax] = all.length ? [Math.min(...all), Math.max(...all)] : [0, 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  const px = (x: number) => pad + ((x - xMin) / (xMax - xMin || 1)) * (w - pad - 10);
  const py = (y: number) => h - pad - ((y - yMin) / (yMax - yMin)) * (h - pad - 10);
  const lines = names.map((name, i) => {
    const points = (item.series[name] ?? [])
      .map((y, k) => [xs[k], y] as const)
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]) => `${px(x as number).toFixed(1)},${py(y).toFixed(1)}`)
      .join(" ");
    return `<polyline class="series" data-series="${escapeHtml(name)}" points="${points}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2"/>`;
  });
  return (
    `<svg class="chart line-chart" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(item.title ?? "line chart")}">` +
    axes(w, h, pad, yMin, yMax, item.xLabel, item.yLabel) +
    lines.join("") +
    "</svg>" +
    legend(names)
  );
}

/** A bar chart as SVG: one rect per bar, from zero. */
export function barChartSvg(item: Extract<ReportItem, { kind: "bar" }>): string {
  const entries = Object.entries(item.bars).filter(([, v]) => Number.isFinite(v));
  const w = Math.max(320, 60 + entries.length * 70);
  const h = 260;
  const pad = 48;
  const yMax = Math.max(0, ...entries.map(([, v]) => v));
  const yMin = Math.min(0, ...entries.map(([, v]) => v));
  const span = yMax - yMin || 1;
  const py = (y: number) => h - pad - ((y - yMin) / span) * (h - pad - 10);
  const slot = (w - pad - 10) / Math.max(1, entries.length);
  const bars = entries.map(([label, v], i) => {
    const x = pad + i * slot + slot * 0.15;
    const [y0, y1] = [py(Math.max(0, v)), py(Math.min(0, v))];
    return (
      `<g class="bar" data-label="${escapeHtml(label)}" data-value="${v}"><title>${escapeHtml(`${label}: ${fmt(v)}`)}</title>` +
      `<rect x="${x.toFixed(1)}" y="${y0.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${Math.max(0.5, y1 - y0).toFixed(1)}" fill="${PALETTE[i % PALETTE.length]}"/>` +
      `<text x="${(x + slot * 0.35).toFixed(1)}" y="${h - pad + 14}" text-anchor="middle" font-size="11">${escapeHtml(clip(label, 12))}</text></g>`
    );
  });
  return (
    `<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(item.title ?? "bar chart")}">` +
    axes(w, h, pad, yMin, yMax, "", item.yLabel) +
    bars.join("") +
    "</svg>"
  );
}

function legend(names: readonly string[]): string {
  return `<div class="legend">${names.map((n, i) => `<span><i class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></i>${escapeHtml(n)}</span>`).join("")}</div>`;
}

function cell(value: unknown): string {
  if (typeof value === "number") return escapeHtml(fmt(value));
  if (value === null || value === undefined) return "";
  return escapeHtml(typeof value === "object" ? JSON.stringify(value) : String(value));
}

function table(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, className = "data"): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return `<table class="${className}"><thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${columns.map((c) => `<td>${cell(r[c])}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

function renderItem(item: ReportItem & { stage: string | null }): string {
  const title = item.title ? `<h4>${escapeHtml(item.title)}</h4>` : "";
  const from = item.stage ? ` data-stage="${escapeHtml(item.stage)}"` : "";
  let body: string;
  switch (item.kind) {
    case "text":
      body = `<pre>${escapeHtml(item.text)}</pre>`;
      break;
    case "table":
      body = table(item.rows);
      break;
    case "line":
      body = lineChartSvg(item);
      break;
    case "bar":
      body = barChartSvg(item);
      break;
    default:
      body = `<pre>${escapeHtml(JSON.stringify(item))}</pre>`;
  }
  return `<section class="report-item" data-kind="${escapeHtml(item.kind)}"${from}>${title}${body}</section>`;
}

function page(title: string, body: string): string {
  // No script and no external resource: the page works from disk, offline, and in a sandboxed frame.
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}

/** The HTML report of one run. */
export function renderReport(run: RunSummary): string {
  const head = [
    ["status", `<span class="status-${run.status}">${run.status}</span>`],
    ["run", String(run.runNumber)],
    ["started", escapeHtml(run.startedAt)],
    ["duration", `${escapeHtml(fmt(run.durationS))} s`],
    ["git commit", run.gitCommit ? `<code>${escapeHtml(run.gitCommit)}</code>${run.gitDirty ? " (dirty tree)" : ""}` : "none"],
    ["command", run.command ? `<code>${escapeHtml(run.command)}</code>` : ""],
    ["notes", escapeHtml(run.notes ?? "")],
  ];
  const sets = run.records.filter((r) => !r.aggregate);
  const paramRows = sets.map((r) => ({
    name: r.name,
    hash: r.hash.slice(0, 12),
    ...Object.fromEntries(Object.entries(r.params).filter(([k]) => k !== "name")),
  }));
  const metricRows = run.records.filter((r) => Object.keys(r.metrics).length > 0).map((r) => ({ record: r.name, ...r.metrics }));
  const records = run.records.map((r) => {
    const outputs = r.stages.flatMap((s) =>
      s.outputs.map((o) => ({ stage: s.stage, output: o.name, status: s.status, value: o.summary, file: o.key ?? "(not cached)" })),
    );
    return (
      `<section class="record" data-record="${escapeHtml(r.name)}" data-hash="${r.hash}"><h2>${r.aggregate ? "Aggregate" : "Parameter set"} ${escapeHtml(r.name)}</h2>` +
      `<p>hash <code>${r.hash}</code></p><div class="graph">${stageGraphSvg(r.stages)}</div>` +
      `<div class="legend">${Object.entries(STATUS_FILL)
        .map(([k, c]) => `<span><i class="swatch" style="background:${c}"></i>${k}</span>`)
        .join("")}</div>` +
      (outputs.length ? `<h3>Outputs</h3>${table(outputs, "outputs")}` : "") +
      (r.reports.length ? `<h3>Reported</h3>${r.reports.map(renderItem).join("")}` : "") +
      "</section>"
    );
  });
  const body =
    `<h1>${escapeHtml(run.experiment)} · run ${run.runNumber}</h1>` +
    (run.description ? `<p>${escapeHtml(run.description)}</p>` : "") +
    `<table class="run">${head.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("")}</table>` +
    (run.error ? `<h2 class="status-failed">Error</h2><pre class="error">${escapeHtml(run.error)}</pre>` : "") +
    `<h2>Parameter sets</h2>${table(paramRows, "parameter-sets")}` +
    (metricRows.length ? `<h2>Metrics</h2>${table(metricRows, "metrics")}` : "") +
    records.join("") +
    `<p><a href="index.html">All runs</a></p>`;
  return page(`${run.experiment} run ${run.runNumber}`, body);
}

/** The index of runs (reports/index.html). */
export function renderIndex(
  runs: ReadonlyArray<{ experiment: string; runNumber: number; status: string; createdAt: string; durationS: number | null; href: string }>,
): string {
  const rows = [...runs]
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
    .map(
      (r) =>
        `<tr class="run" data-status="${escapeHtml(r.status)}"><td><a href="${escapeHtml(r.href)}">${escapeHtml(r.experiment)} #${r.runNumber}</a></td><td class="status-${escapeHtml(r.status)}">${escapeHtml(r.status)}</td><td>${escapeHtml(r.createdAt)}</td><td>${r.durationS === null ? "" : `${escapeHtml(fmt(r.durationS))} s`}</td></tr>`,
    );
  return page(
    "pipeline runs",
    `<h1>Pipeline runs</h1><table class="runs"><thead><tr><th>run</th><th>status</th><th>created (UTC)</th><th>duration</th></tr></thead><tbody>${rows.join("")}</tbody></table>`,
  );
}
