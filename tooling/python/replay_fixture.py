"""Open one lazyscribe file as lazyscribe 2.2 does, in every mode, and print what it holds.

Usage: replay_fixture.py project|repository <file> <work dir> <now>

Prints JSON: for each mode, the experiments (or artifacts) as lazyscribe holds them after loading
(``to_dict()``, which carries the defaults it fills in), the index each slug and short slug looks
up, and, for writable modes, the file lazyscribe writes on save (after a probe: in "a" and "w+" a
new experiment logged at <now>; in "w+" also a metric on the first test of each loaded experiment).
Files are copied into <work dir> first, so the original is never written.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fixed_clock import set_now  # noqa: E402
from lazyscribe import Project, Repository  # noqa: E402


def project_modes(source: Path, work: Path) -> dict:
    out = {}
    for mode in ("r", "a", "w", "w+"):
        target = work / mode / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        project = Project(str(target), mode=mode, author="replayer")
        keys = sorted({k for e in project.experiments for k in (e.slug, e.short_slug)})
        lookups = {}
        for key in keys:
            found = project[key]
            lookups[key] = next(i for i, e in enumerate(project.experiments) if e is found)
        result = {"experiments": list(project), "lookups": lookups}
        if mode != "r":
            if mode == "w+":
                for exp in project.experiments:
                    if exp.tests:
                        exp.tests[0].log_metric("probe", 1)
            with project.log("probe") as exp:
                exp.log_metric("probe", 2)
            project.save()
            result["saved"] = json.loads(target.read_text())
        out[mode] = result
    return out


def repository_modes(source: Path, work: Path) -> dict:
    out = {}
    for mode in ("r", "w", "w+"):
        target = work / mode / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        repository = Repository(str(target), mode=mode)
        result = {"artifacts": list(repository)}
        if mode != "r":
            repository.log_artifact("probe", {"a": 1}, handler="json")
            repository.save()
            result["saved"] = json.loads(target.read_text())
        out[mode] = result
    return out


def main() -> None:
    kind, file, work, now = sys.argv[1:5]
    set_now(now)
    source, work_dir = Path(file), Path(work)
    out = project_modes(source, work_dir) if kind == "project" else repository_modes(source, work_dir)
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
