"""Live interop driver for labbook's repository tests: lazyscribe 2.2 reads, edits and writes
repositories, releases and projects in a folder labbook also uses.

Usage: python tooling/python/interop_repository.py COMMAND DIR [ARG]

  answer   DIR NOW   open DIR/repository.json in mode "r" and in mode "w+", load every json
                     version, and resolve a list of look-ups derived from the file (latest at NOW,
                     every integer version, exact and as-of at every created_at and expiry and one
                     second either side, releases by tag and date); print the answers
  edit     DIR NOW   open in mode "w+", log a new version of the first name and a new name, save;
                     then create a release (as of NOW) on the reloaded repository and append it to
                     releases.json; print what happened
  releases DIR       write a repository and five releases (one backdated, two in the same second);
                     print find_release's answers to look-ups by tag and by date
  project  DIR FILE  write a small project at DIR/FILE (run from DIR/FILE's folder)
  dump     DIR FILE  open DIR/FILE in mode "r", load every artifact, print each experiment

lazyscribe 2.2 leaves ``expiry`` a string after loading a repository, so "latest" and as-of look-ups
raise TypeError once a version has an expiry. ``answer`` reports those look-ups as they are ("r" and
"w+", error ``TYPE_ERROR``) and again after parsing the expiries ("fixed"), which is what labbook
does. ``edit`` records create_release's crash the same way before retrying with parsed expiries.
Commands run with DIR (or FILE's folder) as the working directory. Output is one JSON document.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fixed_clock import set_now
from lazyscribe import Project, Repository
from lazyscribe import release as lzr
from lazyscribe.exception import InvalidVersionError, VersionNotFoundError

FMT = "%Y-%m-%dT%H:%M:%S"


def _print(data: Any) -> None:
    sys.stdout.write(json.dumps(data))
    sys.stdout.flush()


def _fix_expiry(repo: Repository) -> None:
    for art in repo.artifacts:
        if isinstance(art.expiry, str):
            art.expiry = datetime.fromisoformat(art.expiry)


def _error(exc: Exception) -> dict[str, str]:
    # InvalidVersionError and VersionNotFoundError are not ValueErrors; TypeError is the expiry bug.
    if isinstance(exc, VersionNotFoundError):
        return {"error": "VERSION_NOT_FOUND"}
    if isinstance(exc, InvalidVersionError):
        return {"error": "INVALID_VERSION"}
    if isinstance(exc, TypeError):
        return {"error": "TYPE_ERROR", "message": str(exc)}
    if isinstance(exc, ValueError):
        return {"error": "VALUE_ERROR"}
    raise exc


def _lookup(repo: Repository, name: str, version: Any = None, match: str = "exact") -> dict[str, Any]:
    try:
        return {"version": repo._search_artifact_versions(name, version, match).version}
    except Exception as exc:  # noqa: BLE001 - mapped or re-raised by _error
        return _error(exc)


def _dates(stamps: set[str]) -> list[str]:
    """Every stamp, one second either side of it, and a date before everything."""
    out = {"2000-01-01T00:00:00"}
    for s in stamps:
        t = datetime.strptime(s, FMT)
        out.update((t + timedelta(seconds=d)).strftime(FMT) for d in (-1, 0, 1))
    return sorted(out)


def _artifact_queries(repo: Repository, stamps: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in sorted({a.name for a in repo.artifacts}):
        top = max(a.version for a in repo.artifacts if a.name == name)
        out.append({"name": name, "kind": "latest", "result": _lookup(repo, name)})
        for v in range(top + 2):
            out.append({"name": name, "kind": "int", "q": v, "result": _lookup(repo, name, v)})
        for d in [*stamps, "not-a-date"]:
            for match in ("exact", "asof"):
                out.append({"name": name, "kind": "date", "q": d, "match": match, "result": _lookup(repo, name, d, match)})
    return out


def _release_view(release: lzr.Release) -> dict[str, Any]:
    return {"tag": release.tag, "artifacts": [list(pair) for pair in release.artifacts], "created_at": release.created_at.strftime(FMT)}


def _release_queries(releases: list[lzr.Release]) -> list[dict[str, Any]]:
    if not releases:
        return []
    out: list[dict[str, Any]] = [{"kind": "latest", "found": _release_view(lzr.find_release(releases))}]
    for tag in [*sorted({r.tag for r in releases}), "no-such-tag"]:
        try:
            out.append({"kind": "tag", "q": tag, "found": _release_view(lzr.find_release(releases, tag))})
        except VersionNotFoundError:
            out.append({"kind": "tag", "q": tag, "error": "VERSION_NOT_FOUND"})
    for d in _dates({r.created_at.strftime(FMT) for r in releases}):
        for match in ("exact", "asof"):
            try:
                found = lzr.find_release(releases, datetime.strptime(d, FMT), match)
                out.append({"kind": "date", "q": d, "match": match, "found": _release_view(found)})
            except VersionNotFoundError:
                out.append({"kind": "date", "q": d, "match": match, "error": "VERSION_NOT_FOUND"})
    return out


def _load_releases() -> list[lzr.Release]:
    if not Path("releases.json").exists():
        return []
    with open("releases.json") as infile:
        return lzr.load(infile)


def answer(now: str) -> dict[str, Any]:
    set_now(now)
    readonly = Repository("repository.json", mode="r")
    editable = Repository("repository.json", mode="w+")
    stamps = {a.created_at.strftime(FMT) for a in readonly.artifacts}
    # Still strings here (the bug): taken from the text as written.
    stamps |= {str(a.expiry) for a in readonly.artifacts if a.expiry is not None}
    stamps.add(now)
    dates = _dates(stamps)
    # Every json version loads in both modes (integer look-ups do not touch the expiry).
    values: dict[str, list[Any]] = {}
    for art in sorted(readonly.artifacts, key=lambda a: (a.name, a.version)):
        if art.alias == "json":
            value = readonly.load_artifact(art.name, version=art.version)
            if editable.load_artifact(art.name, version=art.version) != value:
                raise SystemExit(f"{art.name} v{art.version}: modes r and w+ load different values")
            values.setdefault(art.name, []).append(value)
    raw = {"r": _artifact_queries(readonly, dates), "w+": _artifact_queries(editable, dates)}
    _fix_expiry(editable)
    releases = _load_releases()
    return {
        "now": now,
        "values": values,
        "raw": raw,
        "artifacts": _artifact_queries(editable, dates),
        "releases": _release_queries(releases),
        "release_list": [_release_view(r) for r in releases],
    }


def edit(now: str) -> dict[str, Any]:
    repo = Repository("repository.json", mode="w+")
    first = sorted({a.name for a in repo.artifacts})[0]
    set_now("2024-02-20T00:00:00")
    repo.log_artifact(first, {"from": "python", "caf\u00e9": 1.0}, handler="json")
    set_now("2024-02-21T06:30:00")
    repo.log_artifact("python-thresholds", {"auc": 0.75, "rows": [1, 2]}, handler="json", fname="thresholds.json", indent=2)
    repo.save()

    set_now(now)
    reloaded = Repository("repository.json", mode="r")
    try:
        lzr.create_release(reloaded, "python-crash")
        release_error = None
    except TypeError as exc:
        release_error = str(exc)
    _fix_expiry(reloaded)
    release = lzr.create_release(reloaded, "v2.0.0-python")
    releases = [*_load_releases(), release]
    with open("releases.json", "w") as outfile:
        lzr.dump(releases, outfile, indent=4)
    return {"first": first, "release_error": release_error, "release": _release_view(release)}


def releases() -> dict[str, Any]:
    repo = Repository("repository.json", mode="w")
    made: list[lzr.Release] = []
    # File order differs from time order: the last release is backdated, and two share a second
    # (with a version logged in that same second between them).
    for step in [
        ("2024-04-01T00:00:00", "model", {"v": 0}),
        ("2024-04-01T00:00:00", "encoder", ["a", "b"]),
        ("2024-04-02T00:00:00", "v1"),
        ("2024-04-05T00:00:00", "model", {"v": 1}),
        ("2024-04-06T00:00:00", "v1.5"),
        ("2024-04-09T00:00:00", "encoder", ["a", "b", "c"]),
        ("2024-04-10T00:00:00", "v2"),
        ("2024-04-10T00:00:00", "model", {"v": 2}),
        ("2024-04-10T00:00:00", "v2-hotfix"),
        ("2024-04-03T00:00:00", "v0.9-backfill"),
    ]:
        set_now(step[0])
        if len(step) == 3:
            repo.log_artifact(step[1], step[2], handler="json")
            repo.save()
        else:
            made.append(lzr.create_release(Repository("repository.json", mode="r"), step[1]))
    with open("releases.json", "w") as outfile:
        lzr.dump(made, outfile, indent=4)
    loaded = _load_releases()
    return {"release_list": [_release_view(r) for r in loaded], "releases": _release_queries(loaded)}


def project(fname: str) -> None:
    set_now("2024-05-01T00:00:00")
    proj = Project(fname, mode="w", author="python")
    with proj.log("python one \u2728") as exp:
        exp.log_metric("score", 0.5)
        exp.log_parameter("grid", {"depth": [2, 4]})
        exp.log_artifact("summary", {"ok": True, "caf\u00e9": "\u2615"}, handler="json", fname="out/summary.json")
        with exp.log_test("slice", description="python slice") as test:
            test.log_metric("mae", 0.25)
            test.log_artifact("rows", [1, 2, 3], handler="json")
    set_now("2024-05-02T00:00:00")
    # Same name and second as an experiment labbook logs, so both projects hold this slug.
    with proj.log("shared run") as exp:
        exp.log_metric("side", 1.0)
        exp.log_artifact("python-only", {"kept": "by merge"}, handler="json")
    set_now("2024-05-03T00:00:00")
    with proj.log("python two") as exp:
        exp.tag("python")
    proj.save()


def dump(fname: str) -> list[dict[str, Any]]:
    proj = Project(fname, mode="r")
    out = []
    for exp in proj.experiments:
        out.append(
            {
                "slug": exp.slug,
                "name": exp.name,
                "author": exp.author,
                "metrics": exp.metrics,
                "tags": list(exp.tags),
                "values": {a.name: exp.load_artifact(a.name) for a in exp.artifacts},
                "tests": {t.name: {"metrics": t.metrics, "values": {a.name: t.load_artifact(a.name) for a in t.artifacts}} for t in exp.tests},
            }
        )
    return out


def main() -> None:
    command, folder = sys.argv[1], Path(sys.argv[2]).resolve()
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    warnings.simplefilter("ignore")
    if command in ("project", "dump"):
        assert arg is not None, f"{command} needs a FILE"
        target = folder / arg
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chdir(target.parent)
        if command == "project":
            project(target.name)
            return
        _print(dump(target.name))
        return
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    if command == "answer":
        assert arg is not None, "answer needs NOW"
        _print(answer(arg))
    elif command == "edit":
        assert arg is not None, "edit needs NOW"
        _print(edit(arg))
    elif command == "releases":
        _print(releases())
    else:
        raise SystemExit(f"unknown command {command!r}: use answer, edit, releases, project or dump")


if __name__ == "__main__":
    main()
