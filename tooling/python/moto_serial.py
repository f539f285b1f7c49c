"""moto_server that handles one S3 request at a time.

moto checks If-None-Match / If-Match and then stores the object as two steps, and its server runs
each request on its own thread, so two concurrent conditional writes to one key can both succeed.
Real S3 decides them atomically. Multi-writer tests that race many processes on one key start this
instead (tooling/testing/src/moto.ts, option `serial`): same app, requests serialised by a lock.
"""

import argparse
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            # Consume the response inside the lock: the check and the write happen while building it.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serial, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
