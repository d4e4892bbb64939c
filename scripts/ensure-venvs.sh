#!/usr/bin/env bash
# Create or update .venv (modern stack) and .venv-rasa (Rasa 3.6.21) from their
# pinned files. Each venv keeps a stamp with the hash of the files it was built
# from; when the hash matches, nothing is done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "error: Python 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1))." >&2
  echo "       Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

ensure() {
  local venv=$1; shift
  local key=$1; shift
  if [[ -f "$venv/.stamp" && "$(cat "$venv/.stamp")" == "$key" ]]; then
    echo "[setup] $venv is up to date"
    return
  fi
  echo "[setup] Installing $venv (a few minutes the first time)..."
  local started=$SECONDS
  [[ -x "$venv/bin/python" ]] || "$PYTHON" -m venv "$venv"
  "$@"
  echo "$key" > "$venv/.stamp"
  echo "[setup] $venv ready in $((SECONDS - started)) s"
}

install_app() {
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements/app.txt 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/pip check
}

install_rasa() {
  # rasa 3.6.21 declares Python <3.11; with these exact pins it runs on 3.11.
  .venv-rasa/bin/pip install --quiet --disable-pip-version-check --no-deps \
    --ignore-requires-python -r requirements/rasa.txt 2>&1 | grep -v "^WARNING: Location" || true
  .venv-rasa/bin/python -c "import rasa, tensorflow" >/dev/null
}

ensure .venv "$(stamp_of requirements/app.txt pyproject.toml)" install_app
ensure .venv-rasa "$(stamp_of requirements/rasa.txt)" install_rasa
