#!/bin/sh
# Installs the Debian 12 packages odernn needs, if any are missing.
#
# Run by the Makefile before every build, so `make verify` and `make test` work on a fresh
# machine. Installs with apt-get as root, or through sudo when that works without a password;
# otherwise prints the exact command to run and exits 1.
# Set ODERNN_NO_INSTALL=1 to only check.
set -eu

PKGS="build-essential pkg-config libgsl-dev liblapacke-dev libopenblas-dev libsundials-dev \
gnuplot-nox libcriterion-dev libreadline-dev libcjson-dev"
# (libquadmath, for the binary128 order studies, comes with gcc: build-essential -> libgcc-12-dev)

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "odernn: installing missing packages:$missing" >&2
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
if [ "${ODERNN_NO_INSTALL:-0}" = 1 ]; then
    echo "odernn: missing packages; install them with:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    sh -c "$cmd" >&2
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo sh -c "$cmd" >&2
else
    echo "odernn: missing packages and no root access; run this, then make again:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
fi
