import { useEffect, useState } from "preact/hooks";
import { type ArtifactEntry, type Detail, getJson, readLimited, urls, type Value } from "../api.js";
import { formatBytes, formatValue, parseCsv } from "../format.js";
import { href, useFetch, useGeneration } from "../state.js";

/** Previews read artifacts whole; larger ones show size and sha256 and a download link only. */
const MAX_PREVIEW_BYTES = 2 * 1024 * 1024;

function KeyValues(props: { values: Record<string, Value>; testid?: string }) {
  const keys = Object.keys(props.values).sort();
  if (keys.length === 0) return <p class="muted">none</p>;
  return (
    <table class="kv" data-testid={props.testid}>
      <tbody>
        {keys.map((k) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{formatValue(props.values[k])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One experiment: metadata, metrics, parameters, tests, dependencies and artifacts with previews. */
export function ExperimentPage(props: { id: string; slug: string }) {
  const generation = useGeneration("project", props.id);
  const { data, error } = useFetch(() => getJson<Detail>(urls.experiment(props.id, props.slug)), [props.id, props.slug, generation]);
  const [open, setOpen] = useState<string | null>(null);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">loading…</p>;
  const e = data.experiment;
  return (
    <section class="page experiment" data-testid="experiment">
      <h2>
        {e.name} <small>{e.slug}</small>
      </h2>
      <table class="kv meta">
        <tbody>
          <tr>
            <th>author</th>
            <td>{e.author}</td>
          </tr>
          <tr>
            <th>created</th>
            <td>{e.created_at}</td>
          </tr>
          <tr>
            <th>last updated</th>
            <td>
              {e.last_updated} by {e.last_updated_by}
            </td>
          </tr>
          <tr>
            <th>tags</th>
            <td>{e.tags.join(", ")}</td>
          </tr>
          <tr>
            <th>files</th>
            <td>{data.location}</td>
          </tr>
        </tbody>
      </table>
      <div class="columns">
        <div>
          <h3>Metrics</h3>
          <KeyValues values={e.metrics} testid="metrics" />
        </div>
        <div>
          <h3>Parameters</h3>
          <KeyValues values={e.parameters} testid="parameters" />
        </div>
      </div>
      <h3>Tests</h3>
      {e.tests.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <div class="columns">
          {e.tests.map((t) => (
            <div key={t.name} class="test" data-test={t.name}>
              <h4>{t.name}</h4>
              {t.description && <p class="muted">{t.description}</p>}
              <KeyValues values={{ ...t.metrics }} />
              {Object.keys(t.parameters).length > 0 && <KeyValues values={t.parameters} />}
            </div>
          ))}
        </div>
      )}
      <h3>Dependencies</h3>
      {data.dependencies.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <ul class="deps" data-testid="dependencies">
          {data.dependencies.map((d) => (
            <li key={d.raw}>
              {d.link ? <a href={href(["p", d.link, "e", d.slug])}>{`${d.project} | ${d.slug}`}</a> : <span title="not served by this viewer">{d.raw}</span>}
            </li>
          ))}
        </ul>
      )}
      <h3>Artifacts</h3>
      {data.artifacts.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <table class="artifacts" data-testid="artifacts">
          <thead>
            <tr>
              <th>name</th>
              <th>test</th>
              <th>version</th>
              <th>handler</th>
              <th>file</th>
              <th>created</th>
              <th>size</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.artifacts.map((a) => {
              const key = `${a.test ?? ""}/${a.name}/${a.version}`;
              const url = urls.artifact(props.id, e.slug, a.name, { test: a.test, version: a.version });
              return [
                <tr key={key} data-artifact={a.name} data-test={a.test ?? ""}>
                  <td>{a.name}</td>
                  <td>{a.test ?? ""}</td>
                  <td class="num">{a.version}</td>
                  <td>{a.handler}</td>
                  <td>{a.fname}</td>
                  <td>{a.created_at}</td>
                  <td class="num">{formatBytes(a.size)}</td>
                  <td class="actions">
                    <button type="button" class="preview-button" onClick={() => setOpen(open === key ? null : key)}>
                      {open === key ? "Hide" : "Preview"}
                    </button>{" "}
                    <a href={urls.artifact(props.id, e.slug, a.name, { test: a.test, version: a.version, download: true })} download>
                      Download
                    </a>
                  </td>
                </tr>,
                open === key && (
                  <tr key={`${key}-preview`} class="preview-row">
                    <td colSpan={8}>
                      <Preview entry={a} url={url} />
                    </td>
                  </tr>
                ),
              ];
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function kindOf(entry: ArtifactEntry): "image" | "json" | "csv" | "html" | "text" | "binary" {
  const ext = entry.fname.toLowerCase().split(".").pop() ?? "";
  if (ext === "png" || ext === "jpg" || ext === "jpeg") return "image";
  if (ext === "json" || entry.handler === "json") return "json";
  if (ext === "csv" || entry.handler === "csv") return "csv";
  if (ext === "html" || ext === "htm") return "html";
  if (entry.handler === "text" || entry.handler === "yaml" || ["txt", "md", "log", "yaml", "yml"].includes(ext)) return "text";
  return "binary";
}

function Facts(props: { entry: ArtifactEntry }) {
  return (
    <dl class="facts">
      <dt>size</dt>
      <dd>{props.entry.size === undefined ? "not recorded" : `${formatBytes(props.entry.size)} (${props.entry.size} bytes)`}</dd>
      <dt>sha256</dt>
      <dd class="mono">{props.entry.sha256 ?? "not recorded"}</dd>
    </dl>
  );
}

/** json as a tree, csv as a table, text as text, png/jpeg as an image; size and sha256 for the rest. */
export function Preview(props: { entry: ArtifactEntry; url: string }) {
  const kind = kindOf(props.entry);
  const tooBig = (props.entry.size ?? 0) > MAX_PREVIEW_BYTES;
  const [text, setText] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tooLarge, setTooLarge] = useState(false);
  useEffect(() => {
    if (kind === "image" || kind === "binary" || kind === "html" || tooBig) return;
    readLimited(props.url, MAX_PREVIEW_BYTES).then(
      (t) => (t === undefined ? setTooLarge(true) : setText(t)),
      (e: Error) => setError(e.message),
    );
  }, [props.url, kind, tooBig]);
  const body = () => {
    if (error) return <p class="error">{error}</p>;
    if (kind === "image") return <img src={props.url} alt={props.entry.name} class="preview-image" />;
    if (kind === "html")
      return (
        <p>
          An HTML page:{" "}
          <a href={props.url} target="_blank" rel="noopener noreferrer">
            open it
          </a>{" "}
          (sandboxed: its scripts do not run).
        </p>
      );
    if (kind === "binary" || tooBig || tooLarge) return <Facts entry={props.entry} />;
    if (text === undefined) return <p class="loading">loading…</p>;
    if (kind === "json") {
      try {
        return <JsonTree value={JSON.parse(text) as Value} name="" depth={0} />;
      } catch {
        return <pre class="text-preview">{text}</pre>;
      }
    }
    if (kind === "csv") return <CsvTable text={text} />;
    return <pre class="text-preview">{text}</pre>;
  };
  return (
    <div class="preview" data-kind={kind} data-testid="preview">
      {body()}
    </div>
  );
}

function JsonTree(props: { value: Value; name: string; depth: number }) {
  const v = props.value;
  const label = props.name ? <span class="json-key">{props.name}: </span> : null;
  if (v === null || typeof v !== "object")
    return (
      <div class="json-leaf">
        {label}
        <span class={`json-${v === null ? "null" : typeof v}`}>{JSON.stringify(v)}</span>
      </div>
    );
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
  return (
    <details open={props.depth < 2} class="json-node">
      <summary>
        {label}
        {Array.isArray(v) ? `[${entries.length}]` : `{${entries.length}}`}
      </summary>
      {entries.map(([k, x]) => (
        <JsonTree key={k} name={k} value={x} depth={props.depth + 1} />
      ))}
    </details>
  );
}

function CsvTable(props: { text: string }) {
  const rows = parseCsv(props.text, 501);
  const [head, ...body] = rows;
  if (!head) return <p class="muted">empty</p>;
  return (
    <table class="csv-preview">
      <thead>
        <tr>
          {head.map((h, i) => (
            <th key={i}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {body.slice(0, 500).map((r, i) => (
          <tr key={i}>
            {r.map((c, j) => (
              <td key={j}>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
      {rows.length > 501 && <caption>first 500 rows</caption>}
    </table>
  );
}
