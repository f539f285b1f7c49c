"""Write a lazyscribe 2.2 project with fixed timestamps: the reference for labbook's file format.

Usage: python tooling/python/make_project_fixture.py [OUT_DIR]
(default OUT_DIR: packages/core/test/fixtures/lazyscribe). Running it twice gives the same bytes.

OUT_DIR gets ``project.json`` (three experiments), ``upstream.json`` (the project the dependencies
point at) and the artifact files in ``<slug>/`` and ``<slug>/<test slug>/`` folders. Dependency
strings are relative ("upstream.json|<slug>"), so Python must open the project with OUT_DIR as its
working directory. packages/core/test/interop-fixture.test.ts logs the same experiments with
labbook and compares the bytes; keep the two in step.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path

from fixed_clock import set_now
from lazyscribe import Project

AUTHOR = "ada"
NAN = float("nan")
INF = float("inf")


def _write_upstream() -> None:
    upstream = Project("upstream.json", mode="w", author=AUTHOR)
    set_now("2024-01-01T00:00:00")
    with upstream.log("feature build") as exp:
        exp.log_metric("rows", 1000)
        exp.log_parameter("source", "s3://bucket/raw")
    upstream.save()


def _write_main() -> None:
    upstream = Project("upstream.json", mode="r")
    feature_build = upstream["feature-build"]
    project = Project("project.json", mode="w", author=AUTHOR)

    set_now("2024-01-02T03:04:05")
    with project.log("baseline") as exp:
        set_now("2024-01-02T03:05:00")
        exp.log_metric("accuracy", 1.0)
        exp.log_metric("epochs", 3)
        exp.log_metric("lr", 1e-05)
        exp.log_metric("big", 1e16)
        exp.log_metric("loss", NAN)
        exp.log_metric("ceiling", INF)
        exp.log_metric("floor", -INF)
        exp.log_metric("auc", 0.9123)
        exp.log_parameter(
            "model",
            {
                "name": "resnet",
                "layers": [64, 32, 16],
                "dropout": 0.5,
                "opts": {"momentum": 0.9, "nesterov": True, "schedule": None, "scale": 2.0},
            },
        )
        exp.log_parameter("seed", 42)
        exp.log_parameter("learning rate", 0.001)
        exp.tag("baseline", "gpu")
        exp.log_artifact(
            "features",
            {"columns": ["age", "income", "zip"], "weights": [1.0, 0.25, -3], "meta": {"rows": 1000, "missing": NAN}},
            handler="json",
        )
        exp.log_artifact(
            "train config",
            {"optimizer": "adam", "betas": [0.9, 0.999], "warmup": {"steps": 500, "ratio": 1e-05}},
            handler="json",
            fname="configs/train.json",
            indent=2,
        )
        set_now("2024-01-02T03:06:00")
        with exp.log_test("holdout", description="20% held out, stratified") as test:
            test.log_metric("accuracy", 0.875)
            test.log_metric("n", 200)
            test.log_parameter("split", {"kind": "stratified", "ratio": 0.2})
            test.log_artifact("confusion", [[90, 10], [15, 85]], handler="json")
        set_now("2024-01-02T03:07:00")
        with exp.log_test("edge cases \U0001f9ea") as test:
            test.log_metric("recall", 0.5)
            test.log_artifact("errors", {"ids": [3, 17], "note": "na\u00efve \u2192 \u2713"}, handler="json", fname="details/errors.json")

    set_now("2024-02-03T04:05:06")
    with project.log("Mod\u00e8le caf\u00e9 \u2615 \U0001f680") as exp:
        set_now("2024-02-03T04:10:00")
        exp.log_metric("pr\u00e9cision", 0.75)
        exp.log_metric("\U0001f4c8 gain", 2.5)
        exp.log_parameter("langue", "fran\u00e7ais")
        exp.log_parameter("emoji", "\U0001f680")
        exp.log_parameter("nested", {"\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435", "deep": {"list": [1, 2.5, None, "x"]}})
        exp.tag("caf\u00e9", "\U0001f525")
        exp.dependencies[feature_build.short_slug] = feature_build
        exp.log_artifact("model", {"weights": [0.1, 0.2, 0.3], "bias": 1.0}, handler="pickle", protocol=4)
        exp.log_artifact("r\u00e9sum\u00e9", {"texte": "\u00e9t\u00e9 \U0001f31e", "score": 1.5}, handler="json")

    set_now("2024-03-04T05:06:07")
    with project.log("baseline") as exp:
        set_now("2024-03-04T05:30:00")
        exp.log_metric("accuracy", 0.95)
        exp.log_parameter("seed", 7)
        exp.tag("draft")
        exp.tag("final", "tuned", overwrite=True)
        exp.dependencies[feature_build.short_slug] = feature_build
        with exp.log_test("holdout", description="") as test:
            test.log_metric("accuracy", 0.9)

    project.save()


def write_project(out_dir: Path) -> None:
    """Write upstream.json, project.json and their artifacts into ``out_dir`` (created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(out_dir):
        _write_upstream()
        _write_main()


def _clear(out_dir: Path) -> None:
    """Empty a previous fixture folder; refuse anything that does not look like one."""
    if not out_dir.exists():
        return
    entries = list(out_dir.iterdir())
    if entries and not (out_dir / "project.json").exists():
        raise SystemExit(f"{out_dir} is not empty and holds no project.json; refusing to clear it.")
    for entry in entries:
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "packages/core/test/fixtures/lazyscribe"
    _clear(out_dir)
    write_project(out_dir.resolve())
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    main()
