#!/usr/bin/env bash
# Install the independent OB 3.0 verifiers (node): Digital Bazaar's
# @digitalbazaar/vc + eddsa-rdfc-2022 cryptosuite and `jose`, pinned by
# tests/verifiers/node/package-lock.json, into tests/verifiers/node/node_modules.
#
# Idempotent: when node_modules was installed from the current lock file and
# the modules import, it does nothing. Needs node >= 20 and npm, and only the
# npm registry (npm ci installs exactly the lock file).
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/node" && pwd)"
STAMP="$DIR/node_modules/.lti-badges-lock.sha256"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "install-node.sh: node and npm are required (node >= 20)" >&2
    exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$major" -lt 20 ]]; then
    echo "install-node.sh: node >= 20 required, found $(node --version)" >&2
    exit 1
fi

want="$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)"
check() {
    [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$want" ]] || return 1
    (cd "$DIR" && node --input-type=module -e "
        await import('@digitalbazaar/vc');
        await import('@digitalbazaar/data-integrity');
        await import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
        await import('@digitalbazaar/ed25519-multikey');
        await import('jose');
    ") >/dev/null 2>&1
}

if check; then
    echo "node verifiers already installed in $DIR/node_modules"
    exit 0
fi

(cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" > "$STAMP"
check || { echo "install-node.sh: modules do not import after npm ci" >&2; exit 1; }
echo "node verifiers installed in $DIR/node_modules"
