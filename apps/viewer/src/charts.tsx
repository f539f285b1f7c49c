/**
 * Charts on uPlot (small, canvas, fast). Each chart's element says what it drew: `data-marks` is the
 * number of bars (counted by uPlot's per-bar callback as it paints them), points (scatter) or lines
 * (curves) on the canvas, so the browser tests can check the picture against the data.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { isNumber, PALETTE } from "./format.js";

const color = (i: number): string => PALETTE[i % PALETTE.length] as string;

const WIDTH = 420;
const HEIGHT = 240;

function pad(min: number, max: number): [number, number] {
  const span = max - min || Math.abs(max) || 1;
  return [min - span * 0.06, max + span * 0.06];
}

function mount(el: HTMLDivElement, opts: uPlot.Options, data: uPlot.AlignedData): uPlot {
  el.textContent = "";
  return new uPlot(opts, data, el);
}

function useChart(build: (el: HTMLDivElement) => uPlot, deps: unknown[]) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const chart = build(el);
    return () => chart.destroy();
  }, deps);
  return ref;
}

function countBars(el: HTMLDivElement) {
  let bars = 0;
  return {
    each: () => {
      bars++;
    },
    hooks: {
      drawClear: [
        () => {
          bars = 0;
        },
      ],
      draw: [
        () => {
          el.dataset.marks = String(bars);
          el.dataset.ready = "1";
        },
      ],
    },
  };
}

/** One bar per experiment for one metric. */
export function BarChart(props: { title: string; labels: string[]; values: Array<number | null> }) {
  const ref = useChart(
    (el) => {
      const counter = countBars(el);
      const xs = props.labels.map((_, i) => i);
      return mount(
        el,
        {
          title: props.title,
          width: WIDTH,
          height: HEIGHT,
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: false, range: [-0.5, props.labels.length - 0.5] }, y: { range: (_u, min, max) => [Math.min(0, min), max * 1.05 || 1] } },
          axes: [{ splits: () => xs, values: () => props.labels.map((l) => (l.length > 14 ? `${l.slice(0, 13)}…` : l)) }, {}],
          series: [
            {},
            {
              label: props.title,
              fill: `${color(0)}cc`,
              stroke: color(0),
              width: 1,
              paths: uPlot.paths.bars!({ size: [0.6, 80], each: counter.each }),
              points: { show: false },
            },
          ],
          hooks: counter.hooks,
        },
        [xs, props.values],
      );
    },
    [props.title, JSON.stringify(props.labels), JSON.stringify(props.values)],
  );
  return <div class="chart" data-kind="bars" data-chart={props.title} ref={ref} />;
}

/**
 * Grouped bars: one group per metric, one bar per experiment in each group (per-test metrics).
 * Groups sit k+1 units apart (a gap slot between them), so every series gets the same bar width.
 */
export function GroupedBarChart(props: { title: string; groups: string[]; series: Array<{ label: string; values: Array<number | null> }> }) {
  const ref = useChart(
    (el) => {
      const counter = countBars(el);
      const k = props.series.length;
      const xs: number[] = [];
      props.groups.forEach((_, g) => {
        for (let j = 0; j < k; j++) xs.push(g * (k + 1) + j);
      });
      const columns = props.series.map((s, j) => xs.map((x) => (x % (k + 1) === j ? (s.values[Math.floor(x / (k + 1))] ?? null) : null)));
      const centers = props.groups.map((_, g) => g * (k + 1) + (k - 1) / 2);
      return mount(
        el,
        {
          title: props.title,
          width: WIDTH,
          height: HEIGHT,
          cursor: { show: false },
          legend: { live: false },
          scales: { x: { time: false, range: [-1, props.groups.length * (k + 1) - 1] }, y: { range: (_u, min, max) => [Math.min(0, min), max * 1.05 || 1] } },
          axes: [{ splits: () => centers, values: () => props.groups }, {}],
          series: [
            {},
            ...props.series.map((s, j) => ({
              label: s.label,
              fill: `${color(j)}cc`,
              stroke: color(j),
              width: 1,
              paths: uPlot.paths.bars!({ size: [0.8, 60], each: counter.each }),
              points: { show: false },
            })),
          ],
          hooks: counter.hooks,
        },
        [xs, ...columns],
      );
    },
    [props.title, JSON.stringify(props.groups), JSON.stringify(props.series)],
  );
  return <div class="chart" data-kind="grouped-bars" data-chart={props.title} ref={ref} />;
}

/** A metric against a parameter: every experiment in view, the chosen ones drawn on top in another colour. */
export function ScatterChart(props: { title: string; xLabel: string; yLabel: string; points: Array<{ x: number; y: number; chosen: boolean }> }) {
  const ref = useChart(
    (el) => {
      const sorted = [...props.points].filter((p) => isNumber(p.x) && isNumber(p.y)).sort((a, b) => a.x - b.x);
      const xs = sorted.map((p) => p.x);
      const rest = sorted.map((p) => (p.chosen ? null : p.y));
      const chosen = sorted.map((p) => (p.chosen ? p.y : null));
      return mount(
        el,
        {
          title: props.title,
          width: WIDTH,
          height: HEIGHT,
          cursor: { show: false },
          legend: { live: false },
          // Padding so points at the extremes are drawn whole.
          scales: { x: { time: false, range: (_u, min, max) => pad(min, max) }, y: { range: (_u, min, max) => pad(min, max) } },
          axes: [{ label: props.xLabel }, { label: props.yLabel }],
          series: [
            {},
            { label: "all in view", stroke: "#9aa5b1", paths: () => null, points: { show: true, size: 4, fill: "#9aa5b1" } },
            { label: "chosen", stroke: color(1), paths: () => null, points: { show: true, size: 9, fill: color(1) } },
          ],
          hooks: {
            draw: [
              (u) => {
                const count = (i: number) => (u.data[i] as Array<number | null>).filter((v) => v !== null && v !== undefined).length;
                el.dataset.marks = String(count(1) + count(2));
                el.dataset.chosen = String(count(2));
                el.dataset.ready = "1";
              },
            ],
          },
        },
        [xs, rest, chosen],
      );
    },
    [props.title, JSON.stringify(props.points)],
  );
  return <div class="chart" data-kind="scatter" data-chart={props.title} ref={ref} />;
}

/** Metric curves by step: one line per experiment that has a history of this metric. */
export function LineChart(props: { title: string; series: Array<{ label: string; steps: number[]; values: number[] }> }) {
  const ref = useChart(
    (el) => {
      const tables: uPlot.AlignedData[] = props.series.map((s) => [s.steps, s.values]);
      const data = uPlot.join(tables);
      return mount(
        el,
        {
          title: props.title,
          width: WIDTH,
          height: HEIGHT,
          legend: { live: false },
          scales: { x: { time: false } },
          axes: [{ label: "step" }, {}],
          series: [{}, ...props.series.map((s, j) => ({ label: s.label, stroke: color(j), width: 2, spanGaps: true, points: { show: false } }))],
          hooks: {
            draw: [
              (u) => {
                let lines = 0;
                let points = 0;
                for (let i = 1; i < u.data.length; i++) {
                  const finite = (u.data[i] as Array<number | null>).filter((v) => isNumber(v)).length;
                  if (finite > 0 && u.series[i]?.show !== false) lines++;
                  points += finite;
                }
                el.dataset.marks = String(lines);
                el.dataset.points = String(points);
                el.dataset.ready = "1";
              },
            ],
          },
        },
        data,
      );
    },
    [props.title, JSON.stringify(props.series)],
  );
  return <div class="chart" data-kind="lines" data-chart={props.title} ref={ref} />;
}
