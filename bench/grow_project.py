"""Build a starting project of N experiments for workload 3 at large N (outside any timing).

Usage: python bench/grow_project.py <source project.json> <n> <out project.json>
Copies the records of a project labbook wrote (workload 1) until there are n, experiment j named
experiment-j (slug and short slug to match); artifact files are not copied (appending one
experiment never reads them). Written as lazyscribe and labbook write it: json, indent 4.
"""

import copy
import json
import sys
from pathlib import Path


def main() -> None:
    source, n, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    records = json.loads(source.read_text())
    base = len(records)
    grown = list(records[:n])
    for j in range(base, n):
        record = copy.deepcopy(records[j % base])
        old = record["name"]
        record["name"] = f"experiment-{j}"
        record["short_slug"] = record["name"]
        record["slug"] = record["name"] + record["slug"][len(old) :]
        grown.append(record)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(grown, indent=4))
    print(json.dumps({"n": len(grown), "bytes": out.stat().st_size}))


if __name__ == "__main__":
    main()
