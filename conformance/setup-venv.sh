#!/usr/bin/env bash
# Create conformance/.venv with the pinned Python dependencies of requirements.txt.
# Idempotent: does nothing when the venv already holds exactly the pinned versions.
# Only PyPI is contacted (by pip), and only when something is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
py="${PYTHON:-python3}"

# pinned "name==version" lines of requirements.txt, normalised to lower case, sorted
want() { grep -Eo '^[A-Za-z0-9_.-]+==[^[:space:]#]+' "$req" | tr 'A-Z_' 'a-z-' | sort; }

satisfied() {
    [ -x "$venv/bin/python" ] || return 1
    local have
    have="$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null | tr 'A-Z_' 'a-z-' | sort)" || return 1
    # every pinned line must appear verbatim in the freeze output
    [ -z "$(comm -23 <(want) <(printf '%s\n' "$have"))" ]
}

if satisfied; then
    echo "setup-venv: $venv already has $(want | tr '\n' ' ')"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    if ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        echo "setup-venv: python3 venv module missing; installing python3-venv"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq python3-venv
    fi
    rm -rf "$venv"
    "$py" -m venv "$venv"
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
if ! satisfied; then
    echo "setup-venv: installed packages do not match $req" >&2
    "$venv/bin/python" -m pip freeze >&2
    exit 1
fi
echo "setup-venv: installed $(want | tr '\n' ' ')into $venv"
