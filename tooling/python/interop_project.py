"""Live interop driver for labbook's tests: lazyscribe 2.2 writes, reads and edits projects.

Usage: python tooling/python/interop_project.py COMMAND DIR

  write DIR  write the reference project of make_project_fixture.py into DIR, then dump it
  dump  DIR  open DIR/project.json in mode "r", load every artifact, dump it
  edit  DIR  open DIR/project.json in mode "r" and "w+", load every json artifact, change one
             metric of every experiment, merge in a new experiment logged by Python, save; then dump

A dump is printed to stdout as one JSON document (NaN and Infinity allowed, as Python's json
writes them): a list of experiments as lazyscribe serialises them (``Experiment.to_dict()``), each
with ``artifact_values`` (every loaded artifact by name) added to the experiment and to each test.
Commands run with DIR as the working directory, so relative dependency strings resolve as they do
for the reference fixture.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from fixed_clock import set_now
from lazyscribe import Project
from make_project_fixture import write_project

AUTHOR = "python"


def _values(owner: Any) -> dict[str, Any]:
    return {artifact.name: owner.load_artifact(artifact.name) for artifact in owner.artifacts}


def dump(project: Project) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for exp in project.experiments:
        record = exp.to_dict()
        record["artifact_values"] = _values(exp)
        for test, test_record in zip(exp.tests, record["tests"], strict=True):
            test_record["artifact_values"] = _values(test)
        out.append(record)
    return out


def _print(data: Any) -> None:
    sys.stdout.write(json.dumps(data))
    sys.stdout.flush()


def edit() -> None:
    # Mode r: everything loads, every json artifact reads back.
    readonly = Project("project.json", mode="r")
    for exp in readonly.experiments:
        for artifact in exp.artifacts:
            if artifact.alias == "json":
                exp.load_artifact(artifact.name)
        for test in exp.tests:
            for artifact in test.artifacts:
                if artifact.alias == "json":
                    test.load_artifact(artifact.name)

    set_now("2030-01-01T00:00:00")
    project = Project("project.json", mode="w+", author=AUTHOR)
    for exp in project.experiments:
        exp.log_metric("python_metric", 1.0)

    # A second project in the same folder contributes one new experiment through merge().
    other = Project("python-side.json", mode="w", author=AUTHOR)
    set_now("2030-01-02T00:00:00")
    with other.log("from python \u2728") as exp:
        exp.log_metric("score", 0.5)
        exp.log_metric("whole", 2.0)
        exp.log_parameter("grid", {"depth": [2, 4], "eta": 0.1})
        exp.tag("python")
        exp.log_artifact("summary", {"ok": True, "caf\u00e9": "\u2615"}, handler="json", fname="out/summary.json")
        with exp.log_test("slice \u00e9t\u00e9", description="summer") as test:
            test.log_metric("mae", 0.25)
            test.log_artifact("rows", [1, 2, 3], handler="json")
    merged = project.merge(other)
    merged.save()


def main() -> None:
    command, folder = sys.argv[1], Path(sys.argv[2]).resolve()
    warnings.simplefilter("ignore")
    if command == "write":
        write_project(folder)
    os.chdir(folder)
    if command == "edit":
        edit()
    elif command not in ("write", "dump"):
        raise SystemExit(f"unknown command {command!r}: use write, dump or edit")
    _print(dump(Project("project.json", mode="r")))


if __name__ == "__main__":
    main()
