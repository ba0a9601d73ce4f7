#!/usr/bin/env bash
# Install the independent Open Badges 2.0 validator (`openbadges` 1.1.2, the
# IMS/1EdTech reference code) into its own virtualenv, .venv-obv at the repo
# root. It lives apart from .venv because its pins (pyld 0.7.1,
# requests-cache 0.4.13, ...) clash with ours.
#
# Idempotent: when the venv already imports `openbadges`, it does nothing.
# Needs only a Python >= 3.11 and the package registry (PyPI).
#
# Overrides (see shared VERIFIERS.md): openbadges 1.1.2 installs but does not
# import on Python 3.11 without pycryptodome>=3.20, python-jose==3.1.0 (newer
# versions break signed badges) and pytz>=2023.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${OBV_VENV:-$ROOT/.venv-obv}"
PY="${OBV_PYTHON:-}"
if [[ -z "$PY" ]]; then
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
    done
fi

check() {
    "$VENV/bin/python" - <<'PY' >/dev/null 2>&1
import openbadges, jose, Crypto, pytz, requests  # noqa: F401
from openbadges import verify  # noqa: F401
PY
}

if [[ -x "$VENV/bin/python" ]] && check; then
    echo "ob2 validator: $VENV already installed"
    exit 0
fi

echo "ob2 validator: creating $VENV with $("$PY" -V 2>&1)"
"$PY" -m venv --clear "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
# This machine's pip config lists optional local mirrors; keep their
# "Location ... is ignored" chatter out of the log, let real errors through.
quiet_pip() { "${PIP[@]}" "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
quiet_pip install --upgrade pip setuptools wheel

# openbadges 1.1.2 pins pycryptodome==3.6.6, python-jose==3.0.1 and
# pytz==2017.2, which do not work on Python 3.11 (and pycryptodome 3.6.6 has
# to be compiled). So: the package itself without its dependencies, then its
# declared dependencies (same pins) with the three overrides in their place.
# pip warns that openbadges' pins are not met; that is expected.
quiet_pip install --no-deps 'openbadges==1.1.2'
quiet_pip install \
    'aniso8601>=1.2.0' 'Click==6.7' 'future==0.16.0' 'jsonschema==2.6.0' \
    'language-tags==0.4.3' 'openbadges-bakery>=1.1.0,<2' 'pydux==0.2.2' \
    'PyLD==0.7.1' 'python-mimeparse==1.6.0' 'requests>=2.13' \
    'requests-cache==0.4.13' 'rfc3986==0.4.1' 'validators==0.11.2' \
    'pycryptodome>=3.20' 'python-jose==3.1.0' 'pytz>=2023'

if ! check; then
    echo "ob2 validator: installed, but 'import openbadges' still fails:" >&2
    "$VENV/bin/python" -c 'import openbadges; from openbadges import verify' >&2 || true
    exit 1
fi
echo "ob2 validator: ready in $VENV"
