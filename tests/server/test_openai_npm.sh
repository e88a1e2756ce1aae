#!/usr/bin/env bash
# `bonsai-cli serve` driven by the official `openai` npm package (installed by scripts/run-tests.sh into
# build/<preset>/npm; BONSAI_NPM_DIR points at it). Without the package the test fails unless
# BONSAI_ALLOW_MISSING_NPM=1 (developer builds without network).
set -euo pipefail
cli=$1
model=$2
here=$(cd "$(dirname "$0")" && pwd)
npm_dir=${BONSAI_NPM_DIR:-}
if [ -z "$npm_dir" ] || [ ! -d "$npm_dir/node_modules/openai" ]; then
  if [ "${BONSAI_ALLOW_MISSING_NPM:-0}" = 1 ]; then echo "openai npm package not installed; skipped"; exit 0; fi
  echo "FAIL: the openai npm package is missing (expected in \$BONSAI_NPM_DIR/node_modules)" >&2
  exit 1
fi
log=$(mktemp)
"$cli" serve -m "$model" --port 0 --api-key local-test-key >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$log")
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log"; echo "FAIL: serve exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$log"; echo "FAIL: serve did not report its port" >&2; exit 1; }
NODE_PATH="$npm_dir/node_modules" node "$here/openai_npm_client.cjs" "http://127.0.0.1:$port/v1"
