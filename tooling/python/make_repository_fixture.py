"""Write a lazyscribe 2.2 repository with fixed timestamps, and print Python's answers to look-ups.

Usage: python tooling/python/make_repository_fixture.py [OUT_DIR]
(default OUT_DIR: packages/repository/test/fixtures/lazyscribe). Running it twice gives the same bytes.

OUT_DIR gets ``repository.json``, ``releases.json``, the artifact files in ``<name>/`` folders and
``answers.json``: how lazyscribe resolves a fixed list of look-ups (latest at a fixed "now", every
integer version, exact dates, as-of dates, releases). The same JSON is printed on stdout.
packages/repository/test/interop.test.ts runs the same look-ups with labbook and compares.

lazyscribe 2.2 leaves ``expiry`` a string after loading a repository (a bug labbook does not copy),
so the reloaded repository's expiries are parsed here before asking it anything.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fixed_clock import set_now  # noqa: E402
from lazyscribe import Repository  # noqa: E402
from lazyscribe import release as lzr  # noqa: E402
from lazyscribe.exception import InvalidVersionError, VersionNotFoundError  # noqa: E402

NOW = "2024-03-01T00:00:00"


def _write() -> None:
    repo = Repository("repository.json", mode="w")
    # model: five versions; v3 is stamped earlier than v2, so created_at order differs from version order.
    for when, value in [
        ("2024-01-01T00:00:00", {"weights": [0.1, 0.2], "note": "first"}),
        ("2024-01-10T12:00:00", {"weights": [0.15, 0.25], "note": "second"}),
        ("2024-01-20T08:30:00", {"weights": [0.2, 0.3], "note": "third", "alpha": 1.0}),
        ("2024-01-15T00:00:00", {"weights": [0.3], "note": "backdated"}),
        ("2024-02-01T00:00:00", {"weights": [0.4, 0.5], "note": "fifth"}),
    ]:
        set_now(when)
        repo.log_artifact("model", value, handler="json")
    set_now("2024-01-05T00:00:00")
    repo.log_artifact("features", ["age", "income"], handler="json", fname="features-v0.json")
    set_now("2024-02-10T00:00:00")
    repo.log_artifact("features", ["age", "income", "tenure"], handler="json", fname="features-v1.json")
    set_now("2024-01-02T00:00:00")
    repo.log_artifact("blob", {"x": 1}, handler="pickle")
    set_now("2024-02-02T00:00:00")
    repo.log_artifact("blob", {"x": 2}, handler="pickle")
    # Expiries: model v1 expired 2024-01-12, the newest model (v4) expires 2024-02-15, blob v1 2024-02-05.
    repo.set_artifact_expiry("model", version=1, expiry="2024-01-12T00:00:00")
    repo.set_artifact_expiry("model", version=4, expiry="2024-02-15T00:00:00")
    repo.set_artifact_expiry("blob", version=1, expiry="2024-02-05T00:00:00")
    repo.save()

    ro = Repository("repository.json", mode="r")
    _fix_expiry(ro)
    set_now("2024-01-25T00:00:00")
    first = lzr.create_release(ro, "v1.0.0")
    first.created_at = datetime.fromisoformat("2024-01-25T00:00:00")
    set_now("2024-02-12T00:00:00")
    second = lzr.create_release(ro, "v1.1.0")
    second.created_at = datetime.fromisoformat("2024-02-12T00:00:00")
    with open("releases.json", "w") as outfile:
        lzr.dump([first, second], outfile, indent=4)


def _fix_expiry(repo: Repository) -> None:
    for art in repo.artifacts:
        if isinstance(art.expiry, str):
            art.expiry = datetime.fromisoformat(art.expiry)


def _answer(fn):
    try:
        art = fn()
    except VersionNotFoundError:
        return {"error": "VERSION_NOT_FOUND"}
    except InvalidVersionError:
        return {"error": "INVALID_VERSION"}
    except ValueError:
        return {"error": "VALUE_ERROR"}
    return {"version": art.version}


def _queries(repo: Repository) -> list[dict]:
    dates = [
        "2023-12-31T23:59:59",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:01",
        "2024-01-02T00:00:00",
        "2024-01-05T00:00:00",
        "2024-01-10T12:00:00",
        "2024-01-11T00:00:00",
        "2024-01-12T00:00:00",
        "2024-01-15T00:00:00",
        "2024-01-16T00:00:00",
        "2024-01-20T08:30:00",
        "2024-02-01T00:00:00",
        "2024-02-03T00:00:00",
        "2024-02-05T00:00:00",
        "2024-02-14T23:59:59",
        "2024-02-15T00:00:00",
        "2024-03-01T00:00:00",
        "not-a-date",
    ]
    out = []
    for name in ["model", "features", "blob"]:
        out.append({"name": name, "kind": "latest", "result": _answer(lambda: repo._search_artifact_versions(name))})
        for v in range(7):
            out.append({"name": name, "kind": "int", "q": v, "result": _answer(lambda: repo._search_artifact_versions(name, v))})
        for d in dates:
            for match in ["exact", "asof"]:
                res = _answer(lambda: repo._search_artifact_versions(name, d, match))
                out.append({"name": name, "kind": "date", "q": d, "match": match, "result": res})
    return out


def _release_queries(releases: list) -> list[dict]:
    out = []
    for tag in ["v1.0.0", "v1.1.0", "v9"]:
        try:
            out.append({"kind": "tag", "q": tag, "tag": lzr.find_release(releases, tag).tag})
        except VersionNotFoundError:
            out.append({"kind": "tag", "q": tag, "error": "VERSION_NOT_FOUND"})
    for d in ["2024-01-24T00:00:00", "2024-01-25T00:00:00", "2024-02-01T00:00:00", "2024-02-12T00:00:00", "2024-06-01T00:00:00"]:
        for match in ["exact", "asof"]:
            try:
                found = lzr.find_release(releases, datetime.fromisoformat(d), match)
                out.append({"kind": "date", "q": d, "match": match, "tag": found.tag})
            except VersionNotFoundError:
                out.append({"kind": "date", "q": d, "match": match, "error": "VERSION_NOT_FOUND"})
    out.append({"kind": "latest", "tag": lzr.find_release(releases).tag})
    return out


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "packages/repository/test/fixtures/lazyscribe"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    os.chdir(out)
    _write()

    repo = Repository("repository.json", mode="r")
    _fix_expiry(repo)
    set_now(NOW)
    with open("releases.json") as infile:
        releases = lzr.load(infile)
    answers = {
        "now": NOW,
        "artifacts": _queries(repo),
        "releases": _release_queries(releases),
    }
    text = json.dumps(answers, indent=2)
    Path("answers.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
