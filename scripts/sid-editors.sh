#!/usr/bin/env bash
# Neovim 0.12 and Helix from Debian sid, for the client tests, without touching the system.
#
#   scripts/sid-editors.sh            # unpack both (once), print the bin folder
#   scripts/sid-editors.sh --check    # exit 0 when both wrappers run, print nothing else
#
# Debian 12 ships Neovim 0.7.2 and no Helix. Debian sid has Neovim 0.12 (`neovim`,
# `neovim-runtime`) and Helix (`hx`), built against a newer glibc. This script
#   1. runs a private `apt-get update` against a sources list of its own (sid main), with apt's
#      state, lists and cache in a private folder, so the system's apt is never touched;
#   2. `apt-get download`s the packages and their dependency closure (apt-cache depends) from it;
#   3. unpacks them with `dpkg -x` into a private root;
#   4. writes wrappers bin/nvim and bin/hx that start the real binary through the root's own
#      dynamic loader (`ld-linux-x86-64.so.2 --library-path …`), with VIMRUNTIME /
#      HELIX_RUNTIME set, so sid's glibc and libraries are used for these two programs only.
# The root is $WEFT_SID_EDITORS (default ~/.cache/weft-test/sid-editors); a finished unpack is
# reused (delete the folder to refresh it). Needs apt-get, apt-cache and dpkg (any Debian or
# Ubuntu) and network access to deb.debian.org.
set -euo pipefail

DEST="${WEFT_SID_EDITORS:-$HOME/.cache/weft-test/sid-editors}"
MIRROR="${WEFT_SID_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=(neovim neovim-runtime hx)
ROOT="$DEST/root"
BIN="$DEST/bin"
STAMP="$DEST/.complete"

check() {
  [ -f "$STAMP" ] && "$BIN/nvim" --version 2>/dev/null | head -1 | grep -q '^NVIM v0\.1[2-9]' &&
    "$BIN/hx" --version >/dev/null 2>&1
}

if [ "${1:-}" = "--check" ]; then
  check
  exit $?
fi

if check; then
  echo "$BIN"
  exit 0
fi

for tool in apt-get apt-cache dpkg; do
  command -v "$tool" >/dev/null || { echo "sid-editors: $tool is required (Debian/Ubuntu)" >&2; exit 1; }
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { echo "sid-editors: $keyring is missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST/apt/lists/partial" "$DEST/apt/cache/archives/partial" "$DEST/debs" "$ROOT" "$BIN"
echo "deb [signed-by=$keyring] $MIRROR sid main" >"$DEST/apt/sources.list"
touch "$DEST/apt/status"
APT=(
  -o "Dir::Etc::sourcelist=$DEST/apt/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$DEST/apt/lists"
  -o "Dir::State::status=$DEST/apt/status"
  -o "Dir::Cache=$DEST/apt/cache"
  -o "APT::Architecture=amd64"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=$(id -un)"
)
apt-get -qq "${APT[@]}" update >/dev/null

# The dependency closure (real packages only: virtual names have no candidate and are skipped).
mapfile -t closure < <(
  apt-cache "${APT[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${PACKAGES[@]}" | grep -v '^ ' | grep -v '^<' | sort -u
)
(cd "$DEST/debs" && apt-get -qq "${APT[@]}" download "${closure[@]}")
for deb in "$DEST"/debs/*.deb; do
  dpkg -x "$deb" "$ROOT"
done

LIB="$ROOT/usr/lib/x86_64-linux-gnu"
[ -x "$LIB/ld-linux-x86-64.so.2" ] || { echo "sid-editors: no loader in $LIB" >&2; exit 1; }
# Neovim looks for tree-sitter parsers on 'runtimepath'; sid puts them in /usr/lib/nvim.
ln -sfn ../../../lib/nvim/parser "$ROOT/usr/share/nvim/runtime/parser"

write_wrapper() { # name, binary, extra environment lines
  cat >"$BIN/$1" <<EOF
#!/bin/sh
# $1 from Debian sid, run through its own loader and libraries (scripts/sid-editors.sh).
$3
exec "$LIB/ld-linux-x86-64.so.2" --library-path "$LIB:$ROOT/lib/x86_64-linux-gnu" "$ROOT/usr/bin/$2" "\$@"
EOF
  chmod +x "$BIN/$1"
}
write_wrapper nvim nvim "export VIMRUNTIME=\"$ROOT/usr/share/nvim/runtime\""
write_wrapper hx hx "export HELIX_RUNTIME=\"\${HELIX_RUNTIME:-$ROOT/usr/lib/hx/runtime}\""

missing=$("$LIB/ld-linux-x86-64.so.2" --library-path "$LIB" --list "$ROOT/usr/bin/nvim" | grep 'not found' || true)
[ -z "$missing" ] || { echo "sid-editors: libraries missing for nvim: $missing" >&2; exit 1; }
touch "$STAMP"
check || { echo "sid-editors: the unpacked editors do not start (see $BIN)" >&2; exit 1; }
echo "$BIN"
