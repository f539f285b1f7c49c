"""Save to a project that labbook writers share, without erasing their experiments (docs/interop.md).

Take labbook's lock (the folder "<index>.lock", made atomically by mkdir), load the project inside
it, log, save, and remove the folder. labbook's commits need that lock, so none lands between the
load and the save. Keep the locked part short: labbook breaks a lock older than 10 seconds.
"""

import os
import sys
import time

from lazyscribe import Project


def save_locked(path, log, author="python"):
    lock = path + ".lock"
    while True:
        try:
            os.mkdir(lock)
            break
        except FileExistsError:
            time.sleep(0.02)
    try:
        project = Project(path, mode="a", author=author)
        log(project)
        project.save()
    finally:
        os.rmdir(lock)


if __name__ == "__main__":
    path, count = sys.argv[1], int(sys.argv[2])
    for i in range(count):

        def log(project):
            with project.log(f"python {i}") as exp:
                exp.log_parameter("uid", f"py-{i}")

        save_locked(path, log)
        time.sleep(0.01)
