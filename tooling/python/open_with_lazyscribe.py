"""Open a project (and optionally a repository) with Python lazyscribe 2.2 and load every artifact.

Usage: open_with_lazyscribe.py <project.json> [<repository.json>]

Prints JSON: {"experiments": [{"slug", "artifacts": {name: value}, "tests": {name: {name: value}}}],
"repository": {name: [versions]}}. Fails (non-zero exit, Python's traceback) when lazyscribe
cannot open the files or read an artifact, e.g. one written with a handler it does not have.
"""

from __future__ import annotations

import json
import sys

from lazyscribe import Project, Repository


def main() -> None:
    project = Project(sys.argv[1], mode="r")
    out: dict = {"experiments": []}
    for exp in project.experiments:
        out["experiments"].append(
            {
                "slug": exp.slug,
                "artifacts": {a.name: exp.load_artifact(a.name) for a in exp.artifacts},
                "tests": {t.name: {a.name: t.load_artifact(a.name) for a in t.artifacts} for t in exp.tests},
            }
        )
    if len(sys.argv) > 2:
        repository = Repository(sys.argv[2], mode="r")
        versions: dict = {}
        for artifact in repository.artifacts:
            versions.setdefault(artifact.name, []).append(artifact.version)
            repository.load_artifact(artifact.name, version=artifact.version)
        out["repository"] = versions
    json.dump(out, sys.stdout, sort_keys=True, default=str)


if __name__ == "__main__":
    main()
