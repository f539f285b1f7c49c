import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getJson, type Row, type SourceInfo, urls } from "./api.js";
import { formatValue } from "./format.js";
import { ExperimentPage } from "./pages/experiment.js";
import { ExperimentsPage } from "./pages/experiments.js";
import { RepositoryPage } from "./pages/repository.js";
import { connectEvents, href, useConnection, useFetch, useGeneration, useLastChange, useRoute } from "./state.js";
import "./style.css";

/** Experiments tagged pipeline-run, each with a link to its HTML report. */
function PipelinesPage(props: { id: string }) {
  const generation = useGeneration("project", props.id);
  const { data, error } = useFetch(() => getJson<{ rows: Row[] }>(urls.experiments(props.id, "tags has pipeline-run")), [props.id, generation]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">loading…</p>;
  return (
    <section class="page pipelines" data-testid="pipelines">
      <h2>Pipeline runs</h2>
      {data.rows.length === 0 ? (
        <p class="muted">No pipeline runs in this project (experiments tagged pipeline-run).</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>run</th>
              <th>created</th>
              <th>author</th>
              <th>metrics</th>
              <th>report</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r) => (
              <tr key={r.slug} data-slug={r.slug}>
                <td>
                  <a href={href(["p", props.id, "e", r.slug])}>{r.name}</a>
                </td>
                <td>{r.created_at}</td>
                <td>{r.author}</td>
                <td>
                  {Object.entries(r.metrics)
                    .map(([k, v]) => `${k}=${formatValue(v)}`)
                    .join(", ")}
                </td>
                <td>
                  {r.report ? (
                    <a href={urls.artifact(props.id, r.slug, "report")} target="_blank" rel="noopener noreferrer">
                      report
                    </a>
                  ) : (
                    "none"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

// The compare page holds the charts (uPlot): loaded on first use, so the table renders sooner.
let compareModule: Promise<typeof import("./pages/compare.js")> | undefined;
function LazyCompare(props: { id: string; slugs: string[] }) {
  const [page, setPage] = useState<typeof import("./pages/compare.js") | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    compareModule ??= import("./pages/compare.js");
    compareModule.then(setPage, (e: Error) => setError(e.message));
  }, []);
  if (error) return <p class="error">{error}</p>;
  return page ? <page.ComparePage {...props} /> : <p class="loading">loading…</p>;
}

/** The server lists what it serves in a meta tag of index.html (saves a round trip before the first view). */
function servedSources(): SourceInfo[] | undefined {
  const content = document.querySelector('meta[name="labbook-sources"]')?.getAttribute("content");
  if (!content) return undefined;
  try {
    return JSON.parse(content) as SourceInfo[];
  } catch {
    return undefined;
  }
}

function App() {
  const route = useRoute();
  const connection = useConnection();
  const lastChange = useLastChange();
  const [sources, setSources] = useState<SourceInfo[] | undefined>(servedSources);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!sources)
      getJson<{ sources: SourceInfo[] }>(urls.sources()).then(
        (s) => setSources(s.sources),
        (e: Error) => setError(e.message),
      );
    connectEvents(setSources);
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!sources) return <p class="loading">loading…</p>;
  const [area, id, page, slug] = route.parts;
  const first = sources[0] as SourceInfo;
  let body: preact.ComponentChild;
  if (area === "p" && id && page === "e" && slug) body = <ExperimentPage id={id} slug={slug} />;
  else if (area === "p" && id && page === "compare") body = <LazyCompare id={id} slugs={(route.query.get("s") ?? "").split(",").filter(Boolean)} />;
  else if (area === "p" && id && page === "pipeline") body = <PipelinesPage id={id} />;
  else if (area === "p" && id) body = <ExperimentsPage key={id} id={id} />;
  else if (area === "r" && id) body = <RepositoryPage key={id} id={id} />;
  else body = first.kind === "project" ? <ExperimentsPage key={first.id} id={first.id} /> : <RepositoryPage key={first.id} id={first.id} />;
  const current = id ?? first.id;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          labbook
        </a>
        <nav>
          {sources.map((s) => (
            <span key={`${s.kind}:${s.id}`} class="source">
              <a href={href([s.kind === "project" ? "p" : "r", s.id])} class={s.id === current ? "active" : ""} title={s.path}>
                {s.kind === "project" ? "▤" : "◈"} {s.id}
              </a>
              {s.kind === "project" && (
                <a class="sub" href={href(["p", s.id, "pipeline"])}>
                  runs
                </a>
              )}
            </span>
          ))}
        </nav>
        <span class={`live ${connection}`} data-testid="live" title={lastChange || "waiting for changes"}>
          {connection === "live" ? "● live" : connection === "offline" ? "○ offline" : "…"}
        </span>
      </header>
      <main>{body}</main>
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
