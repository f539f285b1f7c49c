"""A Python lazyscribe writer that opens a project, waits, then logs and saves.

It loads the project when it starts (mode "a", as a Python job would), prints "ready", waits for a
line on stdin, logs one experiment and saves. lazyscribe rewrites the whole file from what it loaded,
so anything another writer committed in between is erased: the uncoordinated writer labbook detects.
"""

import sys

from lazyscribe import Project

project = Project(sys.argv[1], mode="a", author="python")
print("ready", flush=True)
sys.stdin.readline()
with project.log(sys.argv[2]) as exp:
    exp.log_metric("from_python", 1)
project.save()
print("saved", flush=True)
