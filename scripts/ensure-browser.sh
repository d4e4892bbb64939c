#!/usr/bin/env bash
# Make sure the browser tests (tests/browser) can run on this machine:
#   - Debian's Chromium and fonts (apt-get), never a test tool's own browser download;
#   - Node.js/npm and axe-core, installed with `npm ci` from tools/axe/package-lock.json.
# Idempotent: when everything is present and current it only checks and returns.
# It fails loudly instead of skipping: the browser tests are part of `make test`.
#
#   CHROMIUM=/path/to/chromium   another Chromium binary (default /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
AXE_DIR=tools/axe
AXE_FILE=$AXE_DIR/node_modules/axe-core/axe.min.js
STAMP=$AXE_DIR/node_modules/.ensure-browser-stamp

fail() {
  echo "error: $*" >&2
  echo "       The browser tests (tests/browser, part of 'make test') cannot run without it." >&2
  exit 1
}

# --- Debian packages: Chromium, fonts, Node.js ---------------------------------------
packages=()
if [[ ! -x "$CHROMIUM" ]]; then
  [[ "$CHROMIUM" == /usr/bin/chromium ]] || fail "CHROMIUM=$CHROMIUM is not an executable."
  packages+=(chromium)
fi
if ! fc-list 2>/dev/null | grep -qiE 'DejaVu|Liberation'; then
  packages+=(fontconfig fonts-dejavu-core fonts-liberation)
fi
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

if ((${#packages[@]})); then
  echo "[browser] Installing ${packages[*]} with apt-get (a minute or two)..."
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo_cmd=(sudo -n)
    else
      fail "missing ${packages[*]}, and installing them needs root (or passwordless sudo).
       Install them with: apt-get update && apt-get install -y ${packages[*]}"
    fi
  fi
  "${sudo_cmd[@]}" apt-get update -qq ||
    fail "apt-get update failed (no network or no Debian mirror?)."
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null ||
    fail "apt-get install ${packages[*]} failed."
fi

version=$("$CHROMIUM" --version 2>/dev/null) || fail "$CHROMIUM does not start (--version failed)."
echo "[browser] $version"

# --- axe-core (accessibility audit), pinned in tools/axe/package-lock.json -------------
wanted=$(cat "$AXE_DIR/package.json" "$AXE_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ -f "$AXE_FILE" && -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]]; then
  echo "[browser] axe-core is up to date"
else
  echo "[browser] Installing axe-core (npm ci in $AXE_DIR)..."
  (cd "$AXE_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
    fail "npm ci in $AXE_DIR failed (is the npm registry reachable?)."
  [[ -f "$AXE_FILE" ]] || fail "npm ci did not produce $AXE_FILE."
  echo "$wanted" >"$STAMP"
  echo "[browser] axe-core $(cd "$AXE_DIR" && node -p 'require("axe-core/package.json").version')"
fi
