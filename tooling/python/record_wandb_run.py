"""Log one run with the real W&B Python client (pinned in requirements-tracking.txt) to WANDB_BASE_URL.

Used by packages/tracking/scripts/record-wandb-exchange.ts, which points WANDB_BASE_URL at a local
stub (tooling/testing/src/wandb-stub.ts) and records what this client sends: no W&B server is
involved. The run is the one the W&B contract test exports with labbook: config (nested), history of
one metric by step, a summary value, tags, and a dataset artifact with metadata and one file.
"""

import os
import sys

import wandb

workdir = sys.argv[1]
settings = wandb.Settings(
    x_disable_stats=True,
    x_disable_meta=True,
    x_disable_machine_info=True,
    console="off",
    save_code=False,
    disable_git=True,
    init_timeout=60,
)
run = wandb.init(
    project="labbook-contract",
    entity="stub-entity",
    name="train model",
    config={"lr": 0.01, "optimizer": {"name": "adam", "betas": [0.9, 0.999]}},
    tags=["baseline", "gpu"],
    dir=workdir,
    settings=settings,
)
for step in range(3):
    run.log({"loss": 1 / (step + 1)}, step=step)
run.summary["auc"] = 0.91
artifact = wandb.Artifact("train-model-artifacts", type="dataset", metadata={"labbook_slug": "train-model-20240304050607"})
with artifact.new_file("config.json") as f:
    f.write('{"layers": 3}')
run.log_artifact(artifact)
run.finish()
print("recorded run", run.id)
