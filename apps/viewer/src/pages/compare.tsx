import { useMemo, useState } from "preact/hooks";
import { type CompareData, type ExperimentRecord, getJson, type Row, urls, type Value } from "../api.js";
import { BarChart, GroupedBarChart, LineChart, ScatterChart } from "../charts.js";
import { formatValue, isNumber, sameValue } from "../format.js";
import { href, tableState, useFetch, useGeneration } from "../state.js";

function flatten(parameters: Record<string, Value>, prefix = "", into: Record<string, Value> = {}): Record<string, Value> {
  for (const [k, v] of Object.entries(parameters)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) flatten(v, `${prefix + k}.`, into);
    else into[prefix + k] = v;
  }
  return into;
}

function union(lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}

/** Side by side: parameters and metrics with differences marked, and the charts. */
export function ComparePage(props: { id: string; slugs: string[] }) {
  const generation = useGeneration("project", props.id);
  const { data, error } = useFetch(() => getJson<CompareData>(urls.compare(props.id, props.slugs)), [props.id, props.slugs.join(","), generation]);
  const filter = tableState(props.id).filter;
  const list = useFetch(() => getJson<{ rows: Row[] }>(urls.experiments(props.id, filter)), [props.id, filter, generation]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">loading…</p>;
  const exps = data.experiments;
  return (
    <section class="page compare" data-testid="compare">
      <h2>
        Comparing {exps.length} experiments <a href={href(["p", props.id])}>back to the table</a>
      </h2>
      <CompareTable id={props.id} experiments={exps} />
      <h3>Metrics</h3>
      <div class="charts" data-testid="metric-bars">
        {union(exps.map((e) => Object.keys(e.metrics))).map((m) => (
          <BarChart key={m} title={m} labels={exps.map((e) => e.name)} values={exps.map((e) => (isNumber(e.metrics[m]) ? (e.metrics[m] as number) : null))} />
        ))}
      </div>
      <Scatter experiments={exps} rows={list.data?.rows} />
      <TestCharts experiments={exps} />
      <Curves data={data} />
    </section>
  );
}

function CompareTable(props: { id: string; experiments: ExperimentRecord[] }) {
  const [onlyDiff, setOnlyDiff] = useState(false);
  const exps = props.experiments;
  const params = exps.map((e) => flatten(e.parameters));
  const rows: Array<{ key: string; values: Array<Value | undefined> }> = [
    { key: "author", values: exps.map((e) => e.author) },
    { key: "created_at", values: exps.map((e) => e.created_at) },
    { key: "tags", values: exps.map((e) => e.tags) },
    ...union(exps.map((e) => Object.keys(e.metrics))).map((m) => ({ key: `metrics.${m}`, values: exps.map((e) => e.metrics[m]) })),
    ...union(params.map((p) => Object.keys(p))).map((p) => ({ key: `parameters.${p}`, values: params.map((x) => x[p]) })),
  ];
  return (
    <div class="compare-table-wrap">
      <label class="only-diff">
        <input type="checkbox" checked={onlyDiff} onChange={() => setOnlyDiff((v) => !v)} /> only rows that differ
      </label>
      <table class="compare-table" data-testid="compare-table">
        <thead>
          <tr>
            <th />
            {exps.map((e) => (
              <th key={e.slug}>
                <a href={href(["p", props.id, "e", e.slug])}>{e.name}</a>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const differs = r.values.some((v) => !sameValue(v, r.values[0]));
            if (onlyDiff && !differs) return null;
            return (
              <tr key={r.key} class={differs ? "differs" : ""} data-field={r.key} data-differs={differs ? "1" : "0"}>
                <th>
                  {differs && (
                    <span class="diff-mark" title="differs">
                      ≠{" "}
                    </span>
                  )}
                  {r.key}
                </th>
                {r.values.map((v, i) => (
                  <td key={exps[i]?.slug} class={isNumber(v) ? "num" : ""}>
                    {Array.isArray(v) && r.key === "tags" ? v.join(", ") : formatValue(v)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Scatter(props: { experiments: ExperimentRecord[]; rows: Row[] | undefined }) {
  const rows = props.rows ?? [];
  const metrics = useMemo(() => union(rows.map((r) => Object.keys(r.metrics).filter((m) => isNumber(r.metrics[m])))), [rows]);
  // Parameters with the most distinct values first: they make the most telling scatter.
  const params = useMemo(() => {
    const distinct = new Map<string, Set<number>>();
    for (const r of rows) for (const [p, v] of Object.entries(r.parameters)) if (isNumber(v)) (distinct.get(p) ?? distinct.set(p, new Set()).get(p))?.add(v);
    return [...distinct.keys()].sort((a, b) => (distinct.get(b)?.size ?? 0) - (distinct.get(a)?.size ?? 0) || a.localeCompare(b));
  }, [rows]);
  const [metric, setMetric] = useState<string | undefined>(undefined);
  const [param, setParam] = useState<string | undefined>(undefined);
  const m = metric ?? metrics[0];
  const p = param ?? params[0];
  if (!props.rows) return <p class="loading">loading the scatter…</p>;
  if (m === undefined || p === undefined) return <p>No numeric metric and parameter to plot against each other.</p>;
  const chosen = new Set(props.experiments.map((e) => e.slug));
  const points = rows
    .filter((r) => isNumber(r.metrics[m]) && isNumber(r.parameters[p]))
    .map((r) => ({ x: r.parameters[p] as number, y: r.metrics[m] as number, chosen: chosen.has(r.slug) }));
  return (
    <div class="scatter">
      <h3>
        Scatter:{" "}
        <select aria-label="scatter metric" value={m} onChange={(e) => setMetric((e.target as HTMLSelectElement).value)}>
          {metrics.map((x) => (
            <option key={x}>{x}</option>
          ))}
        </select>{" "}
        against{" "}
        <select aria-label="scatter parameter" value={p} onChange={(e) => setParam((e.target as HTMLSelectElement).value)}>
          {params.map((x) => (
            <option key={x}>{x}</option>
          ))}
        </select>{" "}
        <small>(every experiment in the table's view; the chosen ones larger)</small>
      </h3>
      <div class="charts" data-testid="scatter">
        <ScatterChart title={`${m} by ${p}`} xLabel={p} yLabel={m} points={points} />
      </div>
    </div>
  );
}

function TestCharts(props: { experiments: ExperimentRecord[] }) {
  const exps = props.experiments;
  const testNames = union(exps.map((e) => e.tests.map((t) => t.name)));
  if (testNames.length === 0) return null;
  return (
    <>
      <h3>Tests</h3>
      <div class="charts" data-testid="test-charts">
        {testNames.map((name) => {
          const tests = exps.map((e) => e.tests.find((t) => t.name === name));
          const metrics = union(tests.map((t) => (t ? Object.keys(t.metrics) : [])));
          return (
            <GroupedBarChart
              key={name}
              title={name}
              groups={metrics}
              series={exps.map((e, j) => ({
                label: e.name,
                values: metrics.map((m) => (isNumber(tests[j]?.metrics[m]) ? (tests[j]?.metrics[m] as number) : null)),
              }))}
            />
          );
        })}
      </div>
    </>
  );
}

function Curves(props: { data: CompareData }) {
  const exps = props.data.experiments.filter((e) => props.data.history[e.slug]);
  if (exps.length === 0) return <p class="muted">None of these experiments has a metric history.</p>;
  const metrics = union(exps.map((e) => Object.keys(props.data.history[e.slug] ?? {})));
  return (
    <>
      <h3>Metric curves by step</h3>
      <div class="charts" data-testid="curves">
        {metrics.map((m) => (
          <LineChart
            key={m}
            title={m}
            series={exps.flatMap((e) => {
              const s = props.data.history[e.slug]?.[m];
              return s ? [{ label: e.name, steps: s.steps, values: s.values }] : [];
            })}
          />
        ))}
      </div>
    </>
  );
}
