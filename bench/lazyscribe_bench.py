"""One benchmark workload on Python lazyscribe 2.2, in its own process so peak RSS is per workload.

Usage: python bench/lazyscribe_bench.py <workload> <n> <dir>
Prints one JSON line: {"seconds": float, "peak_rss_mb": float, "check": ...}.
The data is the same as bench/workload-data.mjs makes for labbook (keep the two in step).
"""

import json
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from lazyscribe import Project
from lazyscribe.repository import Repository

METRICS = 20
PARAMS = 20
REPO_NAMES = 50
LOOKUPS = 100
ASOF = 50


def metric(i: int, k: int) -> float:
    # A whole-number float every 20th metric (e.g. a best epoch), as real projects have.
    if k == 0:
        return float(i % 50)
    return ((i * 7919 + k * 104729) % 1000003) / 1000003 + k


def fill(exp, i: int) -> None:
    for k in range(METRICS):
        exp.log_metric(f"metric_{k:02d}", metric(i, k))
    for k in range(PARAMS):
        exp.log_parameter(f"param_{k:02d}", f"value-{(i + k) % 97}-{k}")
    exp.tag("bench", f"group-{i % 10}")
    exp.log_artifact(name="config", value={"i": i, "lr": 0.001 * (i % 10 + 1), "layers": [64, 32, 16]}, handler="json")
    exp.log_artifact(name="summary", value={"i": i, "scores": [metric(i, k) for k in range(1, 6)]}, handler="json")


def asof_minute(j: int, n: int) -> int:
    # Late enough that every name has a version by then.
    return min(n - 1, REPO_NAMES + (j * 7919) % max(1, n - REPO_NAMES))


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    workload, n, root = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    root.mkdir(parents=True, exist_ok=True)
    fpath = root / "project.json"
    check = None
    if workload == "w1":
        t0 = time.perf_counter()
        project = Project(fpath=fpath, mode="w", author="bench")
        for i in range(n):
            with project.log(name=f"experiment-{i}") as exp:
                fill(exp, i)
        project.save()
        seconds = time.perf_counter() - t0
        check = len(project.experiments)
    elif workload == "w2":
        t0 = time.perf_counter()
        project = Project(fpath=fpath, mode="r")
        total = 0.0
        for exp in project.experiments:
            total += exp.metrics["metric_05"]
        seconds = time.perf_counter() - t0
        check = round(total, 6)
    elif workload == "w3":
        t0 = time.perf_counter()
        project = Project(fpath=fpath, mode="a", author="bench")
        with project.log(name=f"experiment-{n}") as exp:
            fill(exp, n)
        project.save()
        seconds = time.perf_counter() - t0
        check = len(project.experiments)
    elif workload == "w4":
        project = Project(fpath=fpath, mode="r")
        names = [f"experiment-{(j * 7919) % n}" for j in range(LOOKUPS)]
        t0 = time.perf_counter()
        found = 0
        for name in names:
            found += len(project[name].metrics)
        seconds = time.perf_counter() - t0
        check = found
    elif workload == "w5":
        # Versions are logged one simulated minute apart (lazyscribe's clock is swapped for a counter)
        # so as-of look-ups have something to choose from and default file names do not collide.
        import lazyscribe.repository as repository_module

        rpath = root / "repository.json"
        start = datetime(2024, 1, 1)
        tick = {"i": 0}

        def clock() -> datetime:
            return start + timedelta(minutes=tick["i"])

        repository_module.utcnow = clock
        t0 = time.perf_counter()
        repo = Repository(fpath=rpath, mode="w")
        for i in range(n):
            tick["i"] = i
            repo.log_artifact(name=f"artifact-{i % REPO_NAMES}", value={"i": i}, handler="json")
        repo.save()
        reader = Repository(fpath=rpath, mode="r")
        found = 0
        for j in range(ASOF):
            asof = (start + timedelta(minutes=asof_minute(j, n), seconds=30)).strftime("%Y-%m-%dT%H:%M:%S")
            value = reader.load_artifact(name=f"artifact-{(j * 7) % REPO_NAMES}", version=asof, match="asof")
            found += value["i"]
        seconds = time.perf_counter() - t0
        check = found
    else:
        raise SystemExit(f"unknown workload {workload}")
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "check": check}))


if __name__ == "__main__":
    main()
