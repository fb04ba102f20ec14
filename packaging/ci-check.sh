#!/usr/bin/env bash
# CI check of the packaging: builds the .deb from a binary that is already built, checks that
# the binary embeds the GUI's font and the copyright file its licence, installs it
# with dpkg -i, runs the INSTALLED /usr/bin/truce (--version, a CLI round trip init/record/list/
# check/wipe in a temporary folder, the GUI's clean failure without a display), validates the
# desktop entry and the AppStream metainfo, renders every man page with groff, checks the Flatpak
# manifest, then removes the package again.
#
# Usage: bash packaging/ci-check.sh [BINARY]     (default: <target dir>/debug/truce, which
#        `cargo test --workspace --locked` builds; build it with `cargo build -p truce`)
# Needs root or sudo (dpkg -i / dpkg -r). Debian packages: dpkg-dev binutils desktop-file-utils
# appstream groff-base python3-yaml (.ci/run installs them).
set -euo pipefail

die() { echo "error: $*" >&2; exit 1; }
step() { echo "== $*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: apt-get install $2"; }

root=$(cd "$(dirname "$0")/.." && pwd)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
binary="${1:-${TRUCE_BINARY:-$target_dir/debug/truce}}"
[ -x "$binary" ] || die "no truce binary at $binary: build it first (cargo build -p truce)"
app_id="org.truce.Truce"

need dpkg-deb dpkg
need readelf binutils
need desktop-file-validate desktop-file-utils
need appstreamcli appstream
need groff groff-base
need python3 python3-yaml

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  need sudo sudo
  SUDO="sudo"
fi
if dpkg-query -W -f='${Status}' truce 2>/dev/null | grep -q "install ok installed"; then
  die "a truce package is already installed here; this check installs and removes it, so remove it first (dpkg -r truce)"
fi

tmp=$(mktemp -d)
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then $SUDO dpkg -r truce >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

step "build the .deb from $binary"
deb=$(TRUCE_DEB_OUT="$tmp/out" bash "$root/packaging/deb/build-deb.sh" "$binary")
[ -f "$deb" ] || die "build-deb.sh printed no .deb path"
dpkg-deb --field "$deb" Package Version Architecture Depends Recommends

step "contents"
dpkg-deb --contents "$deb" | awk '{print $6}' > "$tmp/contents"
for path in ./usr/bin/truce \
    "./usr/share/applications/$app_id.desktop" \
    "./usr/share/metainfo/$app_id.metainfo.xml" \
    "./usr/share/icons/hicolor/scalable/apps/$app_id.svg" \
    "./usr/share/icons/hicolor/48x48/apps/$app_id.png" \
    "./usr/share/icons/hicolor/128x128/apps/$app_id.png" \
    "./usr/share/icons/hicolor/256x256/apps/$app_id.png" \
    ./usr/share/man/man1/truce.1.gz \
    ./usr/share/man/man1/truce-record.1.gz \
    ./usr/share/doc/truce/copyright \
    ./usr/share/doc/truce/changelog.gz; do
  grep -qxF "$path" "$tmp/contents" || die "the package lacks $path"
done
dpkg-deb -x "$deb" "$tmp/root"
if readelf -S --wide "$tmp/root/usr/bin/truce" | grep -q '\.symtab'; then
  die "/usr/bin/truce in the package is not stripped"
fi
# The GUI's font is compiled into the binary (its name table carries the Arev copyright line);
# the package's copyright file must then carry the font's licence.
if grep -q "Copyright (c) 2006 by Tavmjong Bah" "$tmp/root/usr/bin/truce"; then
  grep -qx "License: Bitstream-Vera" "$tmp/root/usr/share/doc/truce/copyright" \
    || die "the binary embeds DejaVu Sans but the copyright file lacks its licence"
else
  die "/usr/bin/truce does not embed DejaVu Sans (ui/fonts/): was the markup built without its fonts?"
fi
echo "$(wc -l < "$tmp/contents") paths; .deb $(du -k "$deb" | cut -f1) KiB"

step "man pages render without groff warnings"
pages=0
for page in "$tmp/root/usr/share/man/man1"/*.1.gz; do
  out=$(gzip -dc "$page" | groff -man -Tutf8 -ww -z 2>&1) || die "groff failed on $(basename "$page")"
  [ -z "$out" ] || die "groff warns on $(basename "$page"): $out"
  pages=$((pages + 1))
done
gzip -dc "$tmp/root/usr/share/man/man1/truce.1.gz" | grep -q '^\.SH SUBCOMMANDS' \
  || die "truce(1) has no SUBCOMMANDS section"
[ -f "$tmp/root/usr/share/man/man1/truce-profile-create.1.gz" ] || die "no page for truce profile create"
echo "$pages pages"

step "install with dpkg -i"
# dpkg -i does not fetch dependencies: install what Depends names and this machine lacks, as apt
# would on a bare Debian 12 (first alternative of each, without version).
depends=$(dpkg-deb --field "$deb" Depends)
missing=()
while IFS= read -r dep; do
  [ -n "$dep" ] || continue
  dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" || missing+=("$dep")
done < <(printf '%s\n' "$depends" | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g')
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing the package's missing dependencies: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
installed=1
$SUDO dpkg -i "$deb"
dpkg-query -W -f='${Status}\n' truce | grep -q "install ok installed" || die "dpkg did not install truce"
$SUDO dpkg --audit || die "dpkg --audit reports broken packages"

step "the installed binary"
truce=/usr/bin/truce
[ -x "$truce" ] || die "$truce missing after dpkg -i"
version_line=$("$truce" --version)
echo "$version_line"
expected=$(dpkg-deb --field "$deb" Version)
[ "$version_line" = "truce $expected" ] || die "truce --version says '$version_line', the package is $expected"

step "CLI round trip with $truce"
data="$tmp/journal"
export TRUCE_PASSPHRASE="ci-check correct horse battery"
"$truce" --data-dir "$data" init --observer "CI packaging" --team "Team 0" > "$tmp/device" \
  || die "truce init failed"
id=$("$truce" --data-dir "$data" record --kind violation --category shelling --method heard \
       --count 3 --approx --narrative "ci-check: shelling north of checkpoint 4") \
  || die "truce record failed"
[ -n "$id" ] || die "truce record printed no id"
"$truce" --data-dir "$data" list > "$tmp/list" || die "truce list failed"
cat "$tmp/list"
grep -q "${id: -8}" "$tmp/list" || die "truce list does not show the record $id"
"$truce" --data-dir "$data" list --json | grep -q "\"id\":\"$id\"" || die "truce list --json lacks $id"
[ "$("$truce" --data-dir "$data" check)" = "ok" ] || die "truce check did not say ok"
! grep -rq "checkpoint 4" "$data" || die "the narrative is readable in plaintext on disk"
"$truce" --data-dir "$data" wipe --yes
[ ! -e "$data/journal.key" ] || die "wipe left the key file"
unset TRUCE_PASSPHRASE
echo "init, record $id, list, check, wipe: ok"

step "GUI without a display fails cleanly"
set +e
gui_err=$(env -u DISPLAY -u WAYLAND_DISPLAY timeout 30 "$truce" --data-dir "$tmp/gui" 2>&1 >/dev/null)
gui_rc=$?
set -e
[ "$gui_rc" = 1 ] || die "truce (GUI) without a display exited $gui_rc, expected 1: $gui_err"
printf '%s\n' "$gui_err" | grep -q "cannot open the window" || die "unexpected GUI error: $gui_err"
echo "exit 1: $gui_err"

step "desktop entry and metainfo"
desktop-file-validate "/usr/share/applications/$app_id.desktop"
grep -qx "X-Purism-FormFactor=Workstation;Mobile;" "/usr/share/applications/$app_id.desktop" \
  || die "the desktop entry is not marked for phones"
appstreamcli validate --no-net "/usr/share/metainfo/$app_id.metainfo.xml"
if [ -f /usr/share/man/man1/truce.1.gz ] && command -v man >/dev/null 2>&1; then
  man -w truce >/dev/null 2>&1 || die "man cannot find truce(1) after install"
  echo "man -w truce: $(man -w truce)"
elif [ ! -f /usr/share/man/man1/truce.1.gz ]; then
  echo "note: this machine's dpkg excludes /usr/share/man (path-exclude); pages checked in the .deb above"
fi

step "Flatpak manifest"
python3 "$root/packaging/flatpak/check-manifest.py" "$root/packaging/flatpak/$app_id.yml"

step "remove with dpkg -r"
$SUDO dpkg -r truce
installed=0
[ ! -e "$truce" ] || die "$truce is still there after dpkg -r"
dpkg-query -W -f='${Status}\n' truce 2>/dev/null | grep -q "install ok installed" && die "truce still installed"

echo "packaging check: ok"
