#!/usr/bin/env bash
# Install what the tests need beyond npm: a Python venv (lazyscribe, python-slugify, moto) at .venv.
# Idempotent and cached: re-running with an unchanged requirements file does nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${LABBOOK_VENV:-$PWD/.venv}"
REQ=tooling/python/requirements.txt
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup: making a Python venv at $VENV (needs Python 3 with venv)..."
  python3 -m venv "$VENV"
  echo "setup: installing lazyscribe, python-slugify and moto from $REQ (about a minute the first time)..."
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  echo "$want" > "$STAMP"
else
  echo "setup: the Python venv at $VENV is up to date"
fi
"$VENV/bin/python" -c "import lazyscribe, slugify; print('python venv ready:', lazyscribe.__version__ if hasattr(lazyscribe, '__version__') else 'lazyscribe')"
# moto's S3 server for the storage tests: tooling/testing/src/moto.ts starts it per test file on 127.0.0.1 with a free port.
test -x "$VENV/bin/moto_server" || { echo "moto_server missing from $VENV: check moto[server] in $REQ" >&2; exit 1; }
"$VENV/bin/python" -c "import moto; print('moto ready:', moto.__version__)"
# The other test servers and tools (chromium, Redis, MLflow...): one idempotent script each.
for script in "$(dirname "$0")"/setup-*.sh; do
  [ -e "$script" ] || continue
  bash "$script"
done
