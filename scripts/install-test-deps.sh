#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, on Debian/Ubuntu: Jupyter's nbconvert/nbclient
# (the notebooks are executed through real Jupyter with the tslab kernel), Chromium (saved plots are
# rendered headless) and clang 16 with lld 16 (the test that rebuilds the wasm kernels from
# lib/backend/kernels/kernels.c and compares them with the committed binary). Uses sudo when not root;
# does nothing for packages already installed.
# Elsewhere, install the equivalents yourself (jupyter nbconvert + nbclient on python3, chromium or
# chrome on PATH or in SLIMSPEECH_CHROMIUM, clang-16 and wasm-ld-16 on PATH).
set -euo pipefail
pkgs=(jupyter-nbconvert python3-nbclient jupyter-client chromium clang-16 lld-16)
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no apt-get here; install ${pkgs[*]} (or their equivalents) yourself" >&2
  exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: ${pkgs[*]} already installed"
  exit 0
fi
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
