"""The Python side of bench/tracking-export.mjs: MLflow's own client logs the same runs labbook exports.

Usage: python bench/tracking_export_mlflow.py TRACKING_URI PROJECT_DIR EXPERIMENT_NAME
For each experiment of PROJECT_DIR/project.json (read as plain json): create_run with the same name,
start time and tags, one log_batch with its metrics, params and tags, log_artifact for each artifact
file, set_terminated with its end time. Plain synchronous calls, as a script using the client would.
Prints the elapsed seconds as JSON.
"""

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

uri, project_dir, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
experiments = json.loads((project_dir / "project.json").read_text())


def ms(text):
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


start = time.perf_counter()
client = MlflowClient(uri)
experiment_id = client.create_experiment(name)
for exp in experiments:
    tags = {"labbook.slug": exp["slug"], "labbook.author": exp["author"], "labbook.tags": ", ".join(exp["tags"]), "mlflow.user": exp["author"]}
    run = client.create_run(experiment_id, run_name=exp["name"], start_time=ms(exp["created_at"]), tags=tags)
    end = ms(exp["last_updated"])
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(k, float(v), end, 0) for k, v in exp["metrics"].items()],
        params=[Param(k, str(v)) for k, v in exp["parameters"].items()],
        tags=[RunTag("labbook.created_at", exp["created_at"]), RunTag("labbook.last_updated", exp["last_updated"])],
    )
    for artifact in exp["artifacts"]:
        client.log_artifact(run.info.run_id, str(project_dir / exp["slug"] / artifact["fname"]))
    client.set_terminated(run.info.run_id, end_time=end)
print(json.dumps({"seconds": time.perf_counter() - start, "runs": len(experiments)}))
