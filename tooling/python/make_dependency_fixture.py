"""Cross-project dependencies as Python lazyscribe 2.2 writes and reads them.

Usage:
  python tooling/python/make_dependency_fixture.py write OUT_DIR
  python tooling/python/make_dependency_fixture.py resolve OUT_DIR PROJECT_JSON

``write`` makes, with OUT_DIR as the working directory (lazyscribe resolves relative dependency paths
against it):
  features/project.json  two upstream experiments
  eval/project.json      one upstream experiment, registered in lazyscribe's registry as "eval"
  runs/project.json      downstream experiments whose dependencies are written three ways:
                         a path relative to the working directory ("features/project.json|<slug>",
                         which is NOT relative to runs/), an absolute path, and the registry key
                         ("eval|<slug>").
``resolve`` loads PROJECT_JSON the way lazyscribe does (working directory OUT_DIR, "eval" registered)
and prints {experiment slug: {upstream short slug: upstream slug}} as JSON.
packages/registry/test/python.test.ts runs both and checks labbook resolves the same way.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from fixed_clock import set_now
from lazyscribe import Project
from lazyscribe.registry import registry

AUTHOR = "ada"


def _write(out_dir: Path) -> None:
    (out_dir / "features").mkdir(parents=True, exist_ok=True)
    (out_dir / "eval").mkdir(parents=True, exist_ok=True)
    (out_dir / "runs").mkdir(parents=True, exist_ok=True)

    features = Project("features/project.json", mode="w", author=AUTHOR)
    set_now("2024-01-01T00:00:00")
    with features.log("feature build") as exp:
        exp.log_metric("rows", 1000)
    set_now("2024-01-05T00:00:00")
    with features.log("feature build v2") as exp:
        exp.log_metric("rows", 2000)
    features.save()

    evaluation = Project("eval/project.json", mode="w", author=AUTHOR)
    set_now("2024-01-03T00:00:00")
    with evaluation.log("holdout eval") as exp:
        exp.log_metric("auc", 0.9)
    evaluation.save()

    # Reopen read-only, the way a downstream user picks upstream experiments.
    features_rel = Project("features/project.json", mode="r")
    features_abs = Project(str((out_dir / "features/project.json").resolve()), mode="r")
    evaluation = Project("eval/project.json", mode="r")
    registry.add_project("eval", evaluation)

    runs = Project("runs/project.json", mode="w", author=AUTHOR)
    set_now("2024-02-01T00:00:00")
    with runs.log("train by path") as exp:
        up = features_rel["feature-build"]
        exp.dependencies[up.short_slug] = up
    set_now("2024-02-02T00:00:00")
    with runs.log("train by absolute path") as exp:
        up = features_abs["feature-build-v2"]
        exp.dependencies[up.short_slug] = up
    set_now("2024-02-03T00:00:00")
    with runs.log("train by key") as exp:
        up = evaluation["holdout-eval"]
        exp.dependencies[up.short_slug] = up
        up = features_rel["feature-build"]
        exp.dependencies[up.short_slug] = up
    runs.save()


def _resolve(project_json: str) -> dict[str, dict[str, str]]:
    registry.add_project("eval", Project("eval/project.json", mode="r"))
    project = Project(project_json, mode="r")
    return {exp.slug: {short: dep.slug for short, dep in exp.dependencies.items()} for exp in project.experiments}


def main() -> None:
    command, out_dir = sys.argv[1], Path(sys.argv[2]).resolve()
    with contextlib.chdir(out_dir):
        if command == "write":
            _write(out_dir)
        elif command == "resolve":
            print(json.dumps(_resolve(sys.argv[3]), sort_keys=True))
        else:
            raise SystemExit(f"unknown command {command!r}: use write or resolve")


if __name__ == "__main__":
    main()
