"""The MLflow anchor: workloads 1, 2, 3 and 5 with MLflow's Python client on its sqlite store.

Usage: python bench/mlflow_bench.py <workload> <n> <dir>
  w1    create N runs (one log_batch with the 20 metrics, 20 parameters and the tag; two log_dict
        artifacts; set_terminated): the fewest client calls that store what labbook's workload 1 stores
  w2    a new client reads metric_05 of every run (search_runs, pages of 50 000)
  w3    a new client appends one run as in w1
  w5    N versions over 50 names, each a run tagged with its name, started at its simulated minute,
        holding value.json; then 50 as-of look-ups (search_runs: that name, start_time <= as-of,
        newest first, 1 result; load_dict of its value.json)
  init  (not timed) create the store's tables and the experiments (MLflow's migrations take seconds)
  grow  (not timed) bring the store in <dir> to N runs by copying the rows of runs MLflow wrote
        (runs, params, tags, metrics, latest_metrics) under new run ids, for workload 3 at large N
Each workload runs in its own process; prints one JSON line: {"seconds", "peak_rss_mb", "check"}.
The store is sqlite:///<dir>/mlflow.db with artifacts under <dir>/artifacts. The data is
bench/workload-data.mjs's (keep in step).
"""

import json
import logging
import os
import resource
import sqlite3
import sys
import time
import uuid
import warnings
from pathlib import Path

METRICS = 20
PARAMS = 20
REPO_NAMES = 50
ASOF = 50
START_MS = 1704067200000  # 2024-01-01T00:00:00Z

warnings.filterwarnings("ignore")
logging.getLogger("mlflow").setLevel(logging.ERROR)
logging.getLogger("alembic").setLevel(logging.ERROR)


def metric(i: int, k: int) -> float:
    if k == 0:
        return float(i % 50)
    return ((i * 7919 + k * 104729) % 1000003) / 1000003 + k


def asof_minute(j: int, n: int) -> int:
    return min(n - 1, REPO_NAMES + (j * 7919) % max(1, n - REPO_NAMES))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def client_for(root: Path):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")


def experiment_id(client, root: Path, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(name, artifact_location=(root / "artifacts" / name).as_uri())


def log_run(client, exp_id: str, i: int) -> None:
    from mlflow.entities import Metric, Param, RunTag

    run = client.create_run(exp_id, run_name=f"experiment-{i}")
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(f"metric_{k:02d}", metric(i, k), now, 0) for k in range(METRICS)],
        params=[Param(f"param_{k:02d}", f"value-{(i + k) % 97}-{k}") for k in range(PARAMS)],
        tags=[RunTag("bench", f"group-{i % 10}")],
    )
    client.log_dict(run_id, {"i": i, "lr": 0.001 * (i % 10 + 1), "layers": [64, 32, 16]}, "config.json")
    client.log_dict(run_id, {"i": i, "scores": [metric(i, k) for k in range(1, 6)]}, "summary.json")
    client.set_terminated(run_id)


def count_runs(root: Path) -> int:
    with sqlite3.connect(root / "mlflow.db") as db:
        return db.execute("select count(*) from runs").fetchone()[0]


def grow(root: Path, n: int) -> int:
    """Copy the rows of existing runs under new ids until the store holds n runs (outside any timing)."""
    db = sqlite3.connect(root / "mlflow.db")
    try:
        tables = {}
        for (table,) in db.execute("select name from sqlite_master where type = 'table'"):
            columns = [row[1] for row in db.execute(f"pragma table_info('{table}')")]
            if "run_uuid" in columns:
                tables[table] = columns
        runs_cols = tables.pop("runs")
        sources = [row[0] for row in db.execute("select run_uuid from runs order by start_time")]
        have = len(sources)
        rows_by_table = {t: {} for t in tables}
        for table, cols in tables.items():
            at = cols.index("run_uuid")
            for row in db.execute(f"select {', '.join(cols)} from {table}"):
                rows_by_table[table].setdefault(row[at], []).append(row)
        run_rows = {row[runs_cols.index("run_uuid")]: row for row in db.execute(f"select {', '.join(runs_cols)} from runs")}
        runs_sql = f"insert into runs ({', '.join(runs_cols)}) values ({', '.join('?' * len(runs_cols))})"
        rows_sql = {t: f"insert into {t} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})" for t, cols in tables.items()}
        for first in range(have, n, 1000):  # a thousand runs at a time, so memory stays flat at any n
            new_runs, new_rows = [], {t: [] for t in tables}
            for j in range(first, min(n, first + 1000)):
                source = sources[j % have]
                new_id = uuid.uuid4().hex
                row = list(run_rows[source])
                for c, col in enumerate(runs_cols):
                    if col == "run_uuid":
                        row[c] = new_id
                    elif col == "name":
                        row[c] = f"experiment-{j}"
                    elif col == "artifact_uri" and row[c]:
                        row[c] = row[c].replace(source, new_id)
                new_runs.append(row)
                for table, cols in tables.items():
                    at = cols.index("run_uuid")
                    for r in rows_by_table[table].get(source, []):
                        r = list(r)
                        r[at] = new_id
                        if table == "tags" and r[cols.index("key")] == "mlflow.runName":
                            r[cols.index("value")] = f"experiment-{j}"
                        new_rows[table].append(r)
            db.executemany(runs_sql, new_runs)
            for table in tables:
                db.executemany(rows_sql[table], new_rows[table])
        db.commit()
    finally:
        db.close()
    return count_runs(root)


def main() -> None:
    workload, n, root = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if workload == "init":
        # Creating the tables runs MLflow's migrations (seconds, once per store): not part of any workload.
        t0 = time.perf_counter()
        client = client_for(root)
        experiment_id(client, root, "bench")
        experiment_id(client, root, "repository")
        print(json.dumps({"seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(), "check": None}))
        return
    if workload == "grow":
        t0 = time.perf_counter()
        check = grow(root, n)
        print(json.dumps({"seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(), "check": check}))
        return
    import mlflow  # noqa: F401  (imported before the clock starts, as labbook's modules are)
    from mlflow import MlflowClient  # noqa: F401

    check = None
    if workload == "w1":
        t0 = time.perf_counter()
        client = client_for(root)
        exp_id = experiment_id(client, root, "bench")
        for i in range(n):
            log_run(client, exp_id, i)
        seconds = time.perf_counter() - t0
        check = count_runs(root)
    elif workload == "w2":
        t0 = time.perf_counter()
        client = client_for(root)
        exp_id = experiment_id(client, root, "bench")
        total, token = 0.0, None
        while True:
            page = client.search_runs([exp_id], max_results=50000, page_token=token)
            for run in page:
                total += run.data.metrics["metric_05"]
            token = page.token
            if not token:
                break
        seconds = time.perf_counter() - t0
        check = round(total, 6)
    elif workload == "w3":
        t0 = time.perf_counter()
        client = client_for(root)
        exp_id = experiment_id(client, root, "bench")
        log_run(client, exp_id, n)
        seconds = time.perf_counter() - t0
        check = count_runs(root)
    elif workload == "w5":
        from mlflow.artifacts import load_dict

        t0 = time.perf_counter()
        client = client_for(root)
        exp_id = experiment_id(client, root, "repository")  # made by init, untimed
        for i in range(n):
            run = client.create_run(exp_id, start_time=START_MS + i * 60_000, tags={"name": f"artifact-{i % REPO_NAMES}"})
            client.log_dict(run.info.run_id, {"i": i}, "value.json")
        found = 0
        reader = client_for(root)
        for j in range(ASOF):
            asof = START_MS + asof_minute(j, n) * 60_000 + 30_000
            name = f"artifact-{(j * 7) % REPO_NAMES}"
            runs = reader.search_runs(
                [exp_id], filter_string=f"tags.name = '{name}' and attributes.start_time <= {asof}", order_by=["attributes.start_time DESC"], max_results=1
            )
            found += load_dict(f"{runs[0].info.artifact_uri}/value.json")["i"]
        seconds = time.perf_counter() - t0
        check = found
    else:
        raise SystemExit(f"unknown workload {workload}")
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "check": check}))


if __name__ == "__main__":
    main()
