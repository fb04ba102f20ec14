#!/usr/bin/env bash
# Builds the truce Debian package with Debian's own dpkg-deb, from the files in packaging/:
# the stripped binary, man pages generated from the clap definition (`truce man`), the desktop
# entry, AppStream metainfo, hicolor icons, copyright and changelog. Depends are computed by
# dpkg-shlibdeps, plus the display libraries that Slint/winit load at run time with dlopen.
#
# Usage: packaging/deb/build-deb.sh [BINARY]          (or TRUCE_BINARY=BINARY)
#   BINARY given: package it as is (CI packages target/debug/truce, the build it already has).
#   No BINARY:    build it first with `cargo build --release --locked -p truce`.
# Environment:
#   TRUCE_DEB_OUT     folder for the .deb (default: <target dir>/debian)
#   DEB_ARCH          Debian architecture (default: dpkg --print-architecture), e.g. arm64
#   STRIP             strip program (default: strip; aarch64-linux-gnu-strip when cross-building)
#   TRUCE_MAN_BINARY  a truce binary that runs on this machine, to print the man pages
#                     (default: BINARY; set it when BINARY is cross-built)
# Prints the path of the .deb on stdout; progress goes to stderr.
set -euo pipefail

die() { echo "error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: apt-get install $2"; }

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
packaging="$root/packaging"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
app_id="org.truce.Truce"

need dpkg-deb dpkg
need dpkg-shlibdeps dpkg-dev
need dpkg-parsechangelog dpkg-dev
need gzip gzip
need "${STRIP:-strip}" binutils

binary="${1:-${TRUCE_BINARY:-}}"
if [ -z "$binary" ]; then
  echo "building the release binary: cargo build --release --locked -p truce" >&2
  (cd "$root" && cargo build --release --locked -p truce) >&2 \
    || die "cargo build --release failed; see above"
  binary="$target_dir/release/truce"
fi
[ -f "$binary" ] && [ -x "$binary" ] || die "no executable truce binary at '$binary'"
man_binary="${TRUCE_MAN_BINARY:-$binary}"

# Version: the workspace's, which the changelog must match (a native package: no Debian revision).
version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml")
[ -n "$version" ] || die "cannot read [workspace.package] version from $root/Cargo.toml"
changelog_version=$(dpkg-parsechangelog -l "$here/changelog" -S Version)
[ "$changelog_version" = "$version" ] \
  || die "packaging/deb/changelog is at $changelog_version but Cargo.toml at $version: add a changelog entry"
arch="${DEB_ARCH:-$(dpkg --print-architecture)}"
# Reproducible timestamps inside the .deb: the changelog's date unless the caller set one.
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l "$here/changelog" -S Timestamp)}"
export SOURCE_DATE_EPOCH

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022
stage="$work/truce"
mkdir -p "$stage/DEBIAN"

# The binary, stripped (the release profile strips already; a dev build is not).
install -D -m 0755 "$binary" "$stage/usr/bin/truce"
"${STRIP:-strip}" --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/truce" \
  || die "cannot strip $binary (for another architecture, set STRIP)"

# Man pages, from the clap definition in app/src/cli/mod.rs.
mkdir -p "$work/man" "$stage/usr/share/man/man1"
"$man_binary" man --out-dir "$work/man" --date "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)" >/dev/null \
  || die "'$man_binary man' failed: it must be a truce binary that runs here (set TRUCE_MAN_BINARY)"
[ -s "$work/man/truce.1" ] || die "'$man_binary man' wrote no truce.1"
for page in "$work/man"/*.1; do
  gzip -9n -c "$page" > "$stage/usr/share/man/man1/$(basename "$page").gz"
done

# Desktop integration.
install -D -m 0644 "$packaging/linux/$app_id.desktop" "$stage/usr/share/applications/$app_id.desktop"
install -D -m 0644 "$packaging/linux/$app_id.metainfo.xml" "$stage/usr/share/metainfo/$app_id.metainfo.xml"
install -D -m 0644 "$packaging/icons/$app_id.svg" "$stage/usr/share/icons/hicolor/scalable/apps/$app_id.svg"
for size in 48 128 256; do
  install -D -m 0644 "$packaging/icons/$app_id-$size.png" \
    "$stage/usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png"
done

# Documentation.
doc="$stage/usr/share/doc/truce"
install -D -m 0644 "$here/copyright" "$doc/copyright"
gzip -9n -c "$here/changelog" > "$doc/changelog.gz"
gzip -9n -c "$root/README.md" > "$doc/README.md.gz"

# Shared-library Depends, as dpkg-shlibdeps computes them (it wants a debian/control to run in).
mkdir -p "$work/src/debian"
printf 'Source: truce\n\nPackage: truce\nArchitecture: any\n' > "$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O -e"$stage/usr/bin/truce" 2>"$work/shlibdeps.err") \
  || { cat "$work/shlibdeps.err" >&2; die "dpkg-shlibdeps failed (cross-building needs the target's libraries installed, see packaging/README.md)"; }
shlibs=$(printf '%s\n' "$shlibs" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no shared libraries in $binary"

# Libraries the GUI opens with dlopen, so dpkg-shlibdeps cannot see them (the sonames are
# strings in the binary): winit loads libxkbcommon.so.0 for the keyboard on X11 and Wayland,
# libwayland-client.so.0 on Wayland, and libX11.so.6, libX11-xcb.so.1, libxcb.so.1,
# libXcursor.so.1, libXi.so.6, libxkbcommon-x11.so.0 on X11. The command line needs none of
# them, so the display stacks are Recommends; libxkbcommon0, needed by both, is a Depends.
# The GUI's font (DejaVu Sans) is compiled into the binary; a system font is still recommended:
# Slint's font library (fontique) stops when fontconfig knows no font at all, and system fonts
# draw characters DejaVu Sans lacks (CJK typed into a narrative, for one).
dlopen_depends="libxkbcommon0"
recommends="libwayland-client0, libx11-6, libx11-xcb1, libxcb1, libxcursor1, libxi6, libxkbcommon-x11-0, fonts-dejavu-core | fonts-noto-core"

installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: truce
Version: $version
Architecture: $arch
Maintainer: The Truce developers <truce@example.invalid>
Installed-Size: $installed_size
Depends: $shlibs, $dlopen_depends
Recommends: $recommends
Suggests: age, zstd
Section: utils
Priority: optional
Homepage: https://example.invalid/truce
Description: offline, encrypted field log for ceasefire monitoring
 Truce lets monitors and observers record ceasefire violations and incidents
 on a phone, tablet or laptop with no network for days. Every record goes into
 an encrypted journal (SQLCipher) the moment it is saved; an emergency wipe
 destroys the key in well under a second.
 .
 Records travel to the mission's coordinators as signed bundles encrypted
 with age, carried on a USB stick. Coordinators import them in any order,
 verify records, raise escalation alerts and export to CSV, GeoJSON and HXL.
 .
 The package holds the touch-friendly GUI (X11 or Wayland, also on Linux
 phones) and the truce command line, with a man page per command.
CONTROL
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

out="${TRUCE_DEB_OUT:-$target_dir/debian}"
mkdir -p "$out"
deb="$out/truce_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "built $deb: $(du -k "$deb" | cut -f1) KiB; binary $(du -k "$stage/usr/bin/truce" | cut -f1) KiB stripped" >&2
echo "$deb"
