#!/usr/bin/env bash
# Debian's chromium for the viewer's browser tests (driven by playwright-core; never a browser download).
# Idempotent: does nothing when a chromium is already on PATH (or at $LABBOOK_CHROMIUM).
set -euo pipefail
if [ -n "${LABBOOK_CHROMIUM:-}" ] && [ -x "$LABBOOK_CHROMIUM" ]; then
  echo "chromium ready: $LABBOOK_CHROMIUM ($("$LABBOOK_CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "chromium ready: $(command -v "$name") ($("$name" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
  fi
done
echo "chromium missing: installing Debian's chromium with apt-get (apt-get update, then apt-get install -y chromium)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium ready: $(command -v chromium) ($(chromium --version 2>/dev/null || echo 'version unknown'))"
