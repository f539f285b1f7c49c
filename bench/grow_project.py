"""Build a starting project of N experiments for workload 3 at large N (outside any timing).

Usage: python bench/grow_project.py <source project.json> <n> <out project.json>
Copies the records of a project labbook wrote (workload 1) until there are n, experiment j named
experiment-j (slug and short slug to match); artifact files are not copied (appending one
experiment never reads them). Each further copy of the records is dated after the one before (its
created_at, last_updated, slug and artifact dates moved on by the span of the source), so the file is
in lazyscribe's order, as a project grown by real appends is. Written as lazyscribe and labbook
write it: json, indent 4.
"""

import copy
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path


def main() -> None:
    source, n, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    records = json.loads(source.read_text())
    base = len(records)
    fmt = "%Y-%m-%dT%H:%M:%S"
    created = [datetime.strptime(r["created_at"], fmt) for r in records]
    span = max(created) - min(created) + timedelta(seconds=1)
    grown = list(records[:n])
    for j in range(base, n):
        record = copy.deepcopy(records[j % base])
        shift = span * (j // base)
        moved = lambda value: (datetime.strptime(value, fmt) + shift).strftime(fmt)  # noqa: E731
        record["created_at"] = moved(record["created_at"])
        record["last_updated"] = moved(record["last_updated"])
        for artifact in record.get("artifacts", []):
            artifact["created_at"] = moved(artifact["created_at"])
        record["name"] = f"experiment-{j}"
        record["short_slug"] = record["name"]
        stamp = datetime.strptime(record["created_at"], fmt).strftime("%Y%m%d%H%M%S")
        record["slug"] = f"{record['name']}-{stamp}"
        grown.append(record)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(grown, indent=4))
    print(json.dumps({"n": len(grown), "bytes": out.stat().st_size}))


if __name__ == "__main__":
    main()
