#!/usr/bin/env python3
"""Checks the Flatpak manifest without Flatpak (whose runtimes this CI cannot fetch): YAML
syntax, the keys flatpak-builder needs, the id matching the desktop entry and metainfo, and a
sandbox limited to what Truce needs (no network, no home folder, no system bus).

Usage: check-manifest.py packaging/flatpak/org.truce.Truce.yml   (needs python3-yaml)
"""
import os
import sys

try:
    import yaml
except ImportError:
    sys.exit("error: python3-yaml is missing: apt-get install python3-yaml")


def fail(msg):
    sys.exit(f"error: {os.path.basename(path)}: {msg}")


path = sys.argv[1] if len(sys.argv) > 1 else "packaging/flatpak/org.truce.Truce.yml"
try:
    with open(path, encoding="utf-8") as f:
        manifest = yaml.safe_load(f)
except (OSError, yaml.YAMLError) as e:
    sys.exit(f"error: cannot read {path}: {e}")
if not isinstance(manifest, dict):
    fail("not a mapping")

for key in ("id", "runtime", "runtime-version", "sdk", "command", "finish-args", "modules"):
    if key not in manifest:
        fail(f"missing key {key!r}")
app_id = manifest["id"]
packaging = os.path.dirname(os.path.dirname(os.path.abspath(path)))
for f in (f"linux/{app_id}.desktop", f"linux/{app_id}.metainfo.xml", f"icons/{app_id}.svg"):
    if not os.path.isfile(os.path.join(packaging, f)):
        fail(f"id {app_id!r} has no packaging/{f}")
if "org.freedesktop.Sdk.Extension.rust-stable" not in manifest.get("sdk-extensions", []):
    fail("the rust-stable SDK extension is missing")

args = manifest["finish-args"]
required = ["--socket=wayland", "--socket=fallback-x11", "--filesystem=/media", "--filesystem=/run/media"]
for arg in required:
    if arg not in args:
        fail(f"finish-args lacks {arg}")
forbidden = ("--share=network", "--filesystem=home", "--filesystem=host", "--socket=system-bus",
             "--socket=session-bus", "--device=all", "--socket=x11", "--filesystem=xdg-")
for arg in args:
    if arg.startswith(forbidden) or arg.startswith("--system-talk-name"):
        fail(f"finish-args grants more than Truce needs: {arg}")

modules = manifest["modules"]
if not isinstance(modules, list) or not modules:
    fail("no modules")
truce = next((m for m in modules if isinstance(m, dict) and m.get("name") == "truce"), None)
if truce is None:
    fail("no module named truce")
if "generated-sources.json" not in truce.get("sources", []):
    fail("the truce module does not use generated-sources.json (offline cargo sources)")
if not any("--offline" in c and "--locked" in c for c in truce.get("build-commands", [])):
    fail("cargo must build with --offline --locked")

print(f"{os.path.basename(path)}: ok ({app_id}, {manifest['runtime']}//{manifest['runtime-version']}, "
      f"{len(args)} finish-args)")
