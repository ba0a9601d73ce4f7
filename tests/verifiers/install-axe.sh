#!/usr/bin/env bash
# axe-core for the browser tests' accessibility checks (npm ci from the lock file; idempotent).
set -euo pipefail
cd "$(dirname "$0")/../e2e/node"
stamp=node_modules/.lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f node_modules/axe-core/axe.min.js ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "axe-core: already installed"
  exit 0
fi
npm ci --no-audit --no-fund --silent
echo "$want" > "$stamp"
echo "axe-core: ready"
