#!/usr/bin/env bash
# Install what the tracking tests need beyond setup.sh: MLflow 3.17.2 (a real tracking server and its
# Python client) and the W&B client, into the same venv (.venv, or $LABBOOK_VENV).
# Idempotent and cached: re-running with an unchanged requirements file does nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${LABBOOK_VENV:-$PWD/.venv}"
REQ=tooling/python/requirements-tracking.txt
STAMP="$VENV/.requirements-tracking.sha256"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-tracking: no venv at $VENV; running tooling/ci/setup.sh first"
  bash tooling/ci/setup.sh
fi
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup-tracking: installing $(grep -v '^#' "$REQ" | xargs) into $VENV (a few minutes the first time)"
  "$VENV/bin/pip" install --progress-bar off --disable-pip-version-check -r "$REQ" | grep -E '^(Collecting|Successfully)' || true
  "$VENV/bin/pip" check
  echo "$want" > "$STAMP"
else
  echo "setup-tracking: $REQ already installed in $VENV"
fi
test -x "$VENV/bin/mlflow" || { echo "mlflow missing from $VENV: check $REQ" >&2; exit 1; }
"$VENV/bin/python" -c "import mlflow, wandb; print('mlflow ready:', mlflow.__version__, '| wandb client ready:', wandb.__version__)"
