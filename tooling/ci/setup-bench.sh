#!/usr/bin/env bash
# A lean Python venv for the bench's lazyscribe anchor: lazyscribe 2.2 and its own dependencies only.
# lazyscribe looks up each artifact's handler through Python entry points while it loads a project,
# and that scans every installed distribution: in the project's .venv (moto, MLflow and their
# dependencies, about 140 distributions) its loads run several times slower than in a venv of its own,
# which is what the bench should compare against. Idempotent: does nothing when the venv is there.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${LABBOOK_BENCH_LAZYSCRIBE_VENV:-$PWD/.cache/bench-lazyscribe-venv}"
SPEC="lazyscribe==2.2.*"
STAMP="$VENV/.bench-requirements"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$SPEC" ]; then
  echo "setup-bench: the lazyscribe venv at $VENV is up to date"
else
  echo "setup-bench: making a venv with only $SPEC at $VENV (for the bench's lazyscribe anchor)..."
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$SPEC"
  echo "$SPEC" > "$STAMP"
fi
"$VENV/bin/python" -c "import lazyscribe; print('setup-bench: lazyscribe', lazyscribe.__version__, 'ready')"
