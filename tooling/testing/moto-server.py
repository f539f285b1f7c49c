"""moto_server with atomic conditional writes.

moto's S3 checks If-Match / If-None-Match and then stores the object with no lock in between, and
its server is threaded: two concurrent PUTs conditional on the same ETag can both succeed (2 rounds
in 100 of eight racing writers did), which real S3 never allows. Tests of concurrent writers then
lose updates that S3 would have refused. This wrapper serialises S3 object writes (PUT, POST,
DELETE on keys) so each check-and-store is atomic, then runs moto_server with the same arguments.
"""

import sys
import threading

from moto.s3.responses import S3Response
from moto.server import main

_lock = threading.RLock()


def _locked(original):
    def run(self, *args, **kwargs):
        with _lock:
            return original(self, *args, **kwargs)

    return run


for _name in ("_key_response_put", "_key_response_post", "_key_response_delete"):
    setattr(S3Response, _name, _locked(getattr(S3Response, _name)))

if __name__ == "__main__":
    main(sys.argv[1:])
