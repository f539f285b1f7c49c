import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, getJson, type Row, urls } from "../api.js";
import { cellValue, formatValue, sortRows } from "../format.js";
import { href, tableState, useFetch, useGeneration } from "../state.js";

const ROW_HEIGHT = 28;
const OVERSCAN = 8;
const FIXED = ["name", "author", "created_at", "tags", "tests", "artifacts"];

interface ListData {
  generation: number;
  total: number;
  rows: Row[];
}

function allColumns(rows: Row[]): { metrics: string[]; parameters: string[] } {
  const metrics = new Set<string>();
  const parameters = new Set<string>();
  // Every row, not a sample: a column that only some experiments have must still be offered.
  for (const r of rows) {
    for (const m in r.metrics) metrics.add(m);
    for (const p in r.parameters) parameters.add(p);
  }
  return { metrics: [...metrics].sort(), parameters: [...parameters].sort() };
}

function defaultColumns(available: { metrics: string[]; parameters: string[] }): string[] {
  return [
    "name",
    "author",
    "created_at",
    "tags",
    ...available.metrics.slice(0, 6).map((m) => `metrics.${m}`),
    ...available.parameters.slice(0, 4).map((p) => `parameters.${p}`),
  ];
}

function columnTitle(key: string): string {
  return key.replace(/^metrics\./, "").replace(/^parameters\./, "") || key;
}

function columnWidth(key: string): number {
  if (key === "name") return 220;
  if (key === "created_at") return 160;
  if (key === "tags") return 150;
  if (key === "tests" || key === "artifacts") return 80;
  return 110;
}

/** The experiments of one project: filter (the CLI's language), sort, choose columns, pick rows to compare. */
export function ExperimentsPage(props: { id: string }) {
  const state = tableState(props.id);
  const generation = useGeneration("project", props.id);
  const [filter, setFilter] = useState(state.filter);
  const [applied, setApplied] = useState(state.filter);
  const [sort, setSort] = useState(state.sort);
  const [columns, setColumns] = useState(state.columns);
  const [selected, setSelected] = useState<string[]>(state.selected);
  const [chooser, setChooser] = useState(false);
  const { data, error, loading } = useFetch(() => getJson<ListData>(urls.experiments(props.id, applied)), [props.id, applied, generation]);
  const [unfiltered, setUnfiltered] = useState<ListData | undefined>(undefined);

  useEffect(() => {
    Object.assign(state, { filter: applied, sort, columns, selected });
  });
  // The column chooser offers every column of the project, whatever the filter keeps.
  useEffect(() => {
    if (data && applied.trim() === "") setUnfiltered(data);
  }, [data, applied]);
  const available = useMemo(() => allColumns((unfiltered ?? data)?.rows ?? []), [unfiltered, data]);
  const shown = columns ?? defaultColumns(available);
  const rows = useMemo(() => {
    const list = data?.rows ?? [];
    return sort ? sortRows(list, sort.key, sort.descending) : list;
  }, [data, sort]);

  const toggleSort = (key: string) => setSort((s) => (s?.key === key ? (s.descending ? null : { key, descending: true }) : { key, descending: false }));
  const toggleRow = (slug: string) => setSelected((s) => (s.includes(slug) ? s.filter((x) => x !== slug) : [...s, slug]));
  const toggleColumn = (key: string) => setColumns((c) => ((c ?? shown).includes(key) ? (c ?? shown).filter((x) => x !== key) : [...(c ?? shown), key]));
  const filterError = error instanceof ApiError && error.code === "INVALID_ARGUMENT" ? error.message : undefined;
  const template = `36px ${shown.map((c) => `${columnWidth(c)}px`).join(" ")}`;

  return (
    <section class="page experiments">
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(filter);
        }}
      >
        <input
          class="filter"
          name="filter"
          placeholder="filter, e.g. metrics.auc > 0.9 and tags has baseline (Enter)"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          aria-label="filter"
        />
        <button type="submit">Filter</button>
        {applied && (
          <button
            type="button"
            onClick={() => {
              setFilter("");
              setApplied("");
            }}
          >
            Clear
          </button>
        )}
        <button type="button" class="columns-button" onClick={() => setChooser((c) => !c)}>
          Columns
        </button>
        <span class="count" data-testid="row-count">
          {data ? `${rows.length} of ${data.total}` : loading ? "loading…" : ""}
        </span>
        <a
          class={`button compare-button${selected.length < 2 ? " disabled" : ""}`}
          href={selected.length >= 2 ? href(["p", props.id, "compare"], { s: selected.join(",") }) : undefined}
        >
          Compare {selected.length > 0 ? `(${selected.length})` : ""}
        </a>
        {selected.length > 0 && (
          <button type="button" onClick={() => setSelected([])}>
            Clear selection
          </button>
        )}
      </form>
      {filterError && <pre class="error filter-error">{filterError}</pre>}
      {error && !filterError && <p class="error">{error.message}</p>}
      {chooser && (
        <div class="chooser" data-testid="column-chooser">
          {[
            ["Fields", FIXED],
            ["Metrics", available.metrics.map((m) => `metrics.${m}`)],
            ["Parameters", available.parameters.map((p) => `parameters.${p}`)],
          ].map(([title, keys]) => (
            <fieldset key={title as string}>
              <legend>{title}</legend>
              {(keys as string[]).map((key) => (
                <label key={key}>
                  <input type="checkbox" checked={shown.includes(key)} onChange={() => toggleColumn(key)} data-column={key} />
                  {columnTitle(key)}
                </label>
              ))}
            </fieldset>
          ))}
        </div>
      )}
      <VirtualTable
        rows={rows}
        columns={shown}
        template={template}
        sort={sort}
        selected={selected}
        onSort={toggleSort}
        onToggle={toggleRow}
        projectId={props.id}
        initialScroll={state.scrollTop}
        onScroll={(top) => {
          state.scrollTop = top;
        }}
      />
    </section>
  );
}

function VirtualTable(props: {
  rows: Row[];
  columns: string[];
  template: string;
  sort: { key: string; descending: boolean } | null;
  selected: string[];
  onSort: (key: string) => void;
  onToggle: (slug: string) => void;
  projectId: string;
  initialScroll: number;
  onScroll: (top: number) => void;
}) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(props.initialScroll);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    el.scrollTop = props.initialScroll;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  // Only the rows in sight (plus a few) are in the DOM: 10 000 rows scroll like 30.
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(props.rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const selected = new Set(props.selected);
  const visible = props.rows.slice(first, last);
  const width = 36 + props.columns.reduce((w, c) => w + columnWidth(c), 0);

  return (
    <div
      class="table-viewport"
      ref={viewport}
      data-testid="table"
      onScroll={(e) => {
        const top = (e.target as HTMLDivElement).scrollTop;
        setScrollTop(top);
        props.onScroll(top);
      }}
    >
      <div class="table-head" style={{ gridTemplateColumns: props.template, width: `${width}px` }}>
        <span />
        {props.columns.map((c) => (
          <button
            type="button"
            key={c}
            class={`th${props.sort?.key === c ? (props.sort.descending ? " desc" : " asc") : ""}${c.startsWith("metrics.") ? " num" : ""}`}
            onClick={() => props.onSort(c)}
            data-column={c}
            title={`sort by ${c}`}
          >
            {columnTitle(c)}
            {props.sort?.key === c ? (props.sort.descending ? " ▼" : " ▲") : ""}
          </button>
        ))}
      </div>
      <div class="table-body" style={{ height: `${props.rows.length * ROW_HEIGHT}px`, width: `${width}px` }}>
        {visible.map((row, i) => (
          <div
            key={row.slug}
            class={`tr${selected.has(row.slug) ? " selected" : ""}`}
            data-slug={row.slug}
            data-index={first + i}
            style={{ gridTemplateColumns: props.template, transform: `translateY(${(first + i) * ROW_HEIGHT}px)` }}
          >
            <span>
              <input type="checkbox" checked={selected.has(row.slug)} onChange={() => props.onToggle(row.slug)} aria-label={`select ${row.slug}`} />
            </span>
            {props.columns.map((c) => {
              const v = cellValue(row, c);
              if (c === "name")
                return (
                  <a key={c} class="td" href={href(["p", props.projectId, "e", row.slug])} title={row.slug}>
                    {row.name}
                  </a>
                );
              const text = c === "tags" ? row.tags.join(", ") : formatValue(v);
              return (
                <span key={c} class={`td${typeof v === "number" ? " num" : ""}`} title={text} data-column={c}>
                  {text}
                </span>
              );
            })}
          </div>
        ))}
      </div>
    </div>
  );
}
