#!/usr/bin/env bash
# Debian's redis-server (and redis-cli) for @labbook/bullmq's tests: tooling/testing/src/redis.ts
# starts one per test file on 127.0.0.1 with a free port. Idempotent: does nothing when installed.
set -euo pipefail
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  echo "redis ready: $(redis-server --version)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "installing redis-server with apt-get"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server
echo "redis ready: $(redis-server --version)"
