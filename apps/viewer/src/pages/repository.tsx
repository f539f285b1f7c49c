import { useState } from "preact/hooks";
import { type ArtifactEntry, getJson, type RepositoryData, urls } from "../api.js";
import { formatBytes, PALETTE } from "../format.js";
import { useFetch, useGeneration } from "../state.js";

const time = (s: string) => Date.parse(`${s}Z`);

/** Versions of one name on a time axis: a dot when created, a bar while alive, cut at the expiry. */
function Timeline(props: { versions: ArtifactEntry[]; from: number; to: number }) {
  const W = 720;
  const H = 26 * props.versions.length + 24;
  const span = Math.max(1, props.to - props.from);
  const x = (t: number) => 10 + ((t - props.from) / span) * (W - 20);
  return (
    <svg class="timeline" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label="versions over time" data-testid="timeline">
      {props.versions.map((v, i) => {
        const start = x(time(v.created_at));
        const end = v.expiry ? x(Math.min(time(v.expiry), props.to)) : W - 10;
        const y = 14 + i * 26;
        const color = PALETTE[i % PALETTE.length];
        return (
          <g key={v.version} data-version={v.version}>
            <line x1={start} x2={end} y1={y} y2={y} stroke={color} stroke-width="6" stroke-linecap="round" opacity={v.expiry ? 0.45 : 0.9} />
            <circle cx={start} cy={y} r="6" fill={color} />
            {v.expiry && <line x1={end} x2={end} y1={y - 8} y2={y + 8} stroke="#d64545" stroke-width="2" />}
            <text x={Math.min(start + 10, W - 200)} y={y - 8} font-size="11" fill="#333">
              v{v.version} {v.created_at}
              {v.expiry ? ` expires ${v.expiry}` : ""}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** A repository: names, each name's versions on a timeline with expiry, releases, and a diff of two versions. */
export function RepositoryPage(props: { id: string }) {
  const generation = useGeneration("repository", props.id);
  const { data, error } = useFetch(() => getJson<RepositoryData>(urls.repository(props.id)), [props.id, generation]);
  const [name, setName] = useState<string | undefined>(undefined);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">loading…</p>;
  const current = name ?? data.names[0];
  const versions = data.entries.filter((e) => e.name === current).sort((a, b) => a.version - b.version);
  const times = data.entries.flatMap((e) => [time(e.created_at), ...(e.expiry ? [time(e.expiry)] : [])]);
  const from = Math.min(...times);
  const to = Math.max(...times, Date.now());
  return (
    <section class="page repository" data-testid="repository">
      <h2>
        Repository {props.id} <small>{data.path}</small>
      </h2>
      <div class="repo-layout">
        <nav class="names">
          <h3>Names</h3>
          <ul>
            {data.names.map((n) => (
              <li key={n}>
                <button type="button" class={n === current ? "active" : ""} onClick={() => setName(n)} data-name={n}>
                  {n} <small>({data.entries.filter((e) => e.name === n).length})</small>
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div>
          {current && (
            <>
              <h3>{current}: versions</h3>
              <Timeline versions={versions} from={from} to={to} />
              <table class="versions">
                <thead>
                  <tr>
                    <th>version</th>
                    <th>created</th>
                    <th>expiry</th>
                    <th>handler</th>
                    <th>file</th>
                    <th>size</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {versions.map((v) => (
                    <tr key={v.version}>
                      <td class="num">{v.version}</td>
                      <td>{v.created_at}</td>
                      <td>{v.expiry ?? ""}</td>
                      <td>{v.handler}</td>
                      <td>{v.fname}</td>
                      <td class="num">{formatBytes(v.size)}</td>
                      <td>
                        <a href={urls.repositoryArtifact(props.id, v.name, v.version, true)} download>
                          Download
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {versions.length >= 2 && <Diff key={current} id={props.id} name={current} versions={versions.map((v) => v.version)} />}
            </>
          )}
          <h3>Releases</h3>
          {data.releases.length === 0 ? (
            <p class="muted">none</p>
          ) : (
            <table class="releases" data-testid="releases">
              <thead>
                <tr>
                  <th>tag</th>
                  <th>created</th>
                  <th>pins</th>
                </tr>
              </thead>
              <tbody>
                {data.releases.map((r) => (
                  <tr key={r.tag}>
                    <td>{r.tag}</td>
                    <td>{r.created_at}</td>
                    <td>{r.artifacts.map(([n, v]) => `${n}@${v}`).join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
    </section>
  );
}

function Diff(props: { id: string; name: string; versions: number[] }) {
  const [a, setA] = useState(props.versions.at(-2) as number);
  const [b, setB] = useState(props.versions.at(-1) as number);
  const { data, error } = useFetch(() => getJson<{ diff: string }>(urls.diff(props.id, props.name, a, b)), [props.id, props.name, a, b]);
  const pick = (value: number, set: (v: number) => void, label: string) => (
    <select aria-label={label} value={value} onChange={(e) => set(Number((e.target as HTMLSelectElement).value))}>
      {props.versions.map((v) => (
        <option key={v} value={v}>
          version {v}
        </option>
      ))}
    </select>
  );
  return (
    <div class="diff" data-testid="diff">
      <h3>
        Diff {pick(a, setA, "from version")} → {pick(b, setB, "to version")}
      </h3>
      {error && <p class="error">{error.message}</p>}
      {data && (
        <pre class="diff-text">
          {data.diff.split("\n").map((line, i) => (
            <span
              key={i}
              class={
                line.startsWith("+") && !line.startsWith("+++")
                  ? "add"
                  : line.startsWith("-") && !line.startsWith("---")
                    ? "del"
                    : line.startsWith("@@")
                      ? "hunk"
                      : ""
              }
            >
              {`${line}\n`}
            </span>
          ))}
        </pre>
      )}
    </div>
  );
}
