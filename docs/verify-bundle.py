#!/usr/bin/env python3
"""Verifies a decrypted Truce bundle (format version 1 or 2) without trusting it or Truce.

Version 1 (records only):

    age -d -i coordinator.key BUNDLE.age | zstd -d > bundle.jsonl
    python3 verify-bundle.py bundle.jsonl --fingerprint "3f2a 91c0 ..."

Version 2 (records with their attachments; a tar archive inside the age layer):

    mkdir out && age -d -i coordinator.key BUNDLE.age | tar -x -C out
    cat out/entries.jsonl.zst.* | zstd -d > out/entries.jsonl
    python3 verify-bundle.py out --fingerprint "3f2a 91c0 ..."

The fingerprint is the one registered for the device (`truce devices` on the coordinator,
`truce keys` on the device, read aloud by its observer): a bundle re-signed with another key
verifies against its own manifest, so only the registered fingerprint says whose it is.

Checks, as docs/bundle-format.md defines them:
  1. the manifest's device key has the registered fingerprint;
  2. every entry's hash, over its record bytes exactly as they are in the line;
  3. the chain: consecutive seq from first_seq, each prev_hash the hash before it, and
     entry_count entries;
  4. the Ed25519 signature over every line before it (with the `openssl` command, 3.0 or later);
     in version 2, over the lines and then the SHA-256 of each attachment, in the order the
     records first name them;
  5. version 2: every file under attachments/ is named by its SHA-256, is named by a record,
     and every file the records name is there, as many and as large as the manifest says.

Uses only the Python standard library and `openssl`. Exit status 0: the bundle verifies;
1: it does not (the reason is printed); 2: the verifier could not run (usage, openssl missing).
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ZERO_HASH = "0" * 64
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 key bytes follow.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class Refused(Exception):
    """The bundle does not verify."""


def fingerprint(device_key_hex):
    """First 16 bytes of SHA-256 of the 32-byte public key, hex, in groups of four."""
    digest = hashlib.sha256(bytes.fromhex(device_key_hex)).hexdigest()[:32]
    return " ".join(digest[i:i + 4] for i in range(0, 32, 4))


def normalise(fp):
    return "".join(fp.split()).lower()


def top_level_spans(line):
    """The members of the JSON object on `line`, as {key: (value, start, end)}: the value
    parsed, and where its text starts and ends in the line, so its bytes can be cut as they
    are. Refuses duplicate keys, which a reader could resolve either way."""
    decoder = json.JSONDecoder()
    spans = {}
    i = 0

    def skip(i):
        while i < len(line) and line[i] in " \t\r\n":
            i += 1
        return i

    i = skip(i)
    if i >= len(line) or line[i] != "{":
        raise Refused("a line is not a JSON object")
    i = skip(i + 1)
    if i < len(line) and line[i] == "}":
        return spans
    while True:
        key, i = decoder.raw_decode(line, i)
        if not isinstance(key, str):
            raise Refused("a key is not a string")
        i = skip(i)
        if line[i:i + 1] != ":":
            raise Refused("malformed JSON object")
        start = skip(i + 1)
        value, end = decoder.raw_decode(line, start)
        if key in spans:
            raise Refused(f"the key {key!r} appears twice in one line")
        spans[key] = (value, start, end)
        i = skip(end)
        if line[i:i + 1] == ",":
            i = skip(i + 1)
            continue
        if line[i:i + 1] == "}" and skip(i + 1) == len(line):
            return spans
        raise Refused("malformed JSON object")


def entry_hash(seq, prev_hash, record_bytes):
    h = hashlib.sha256()
    h.update(b"truce-entry-v1\n")
    h.update(str(seq).encode("ascii") + b"\n")
    h.update(prev_hash.encode("ascii") + b"\n")
    h.update(record_bytes)
    return h.hexdigest()


def verify_signature(device_key_hex, message, signature_hex):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "pub.der").write_bytes(ED25519_SPKI_PREFIX + bytes.fromhex(device_key_hex))
        (tmp / "message").write_bytes(message)
        (tmp / "sig").write_bytes(bytes.fromhex(signature_hex))
        try:
            run = subprocess.run(
                ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp / "pub.der"),
                 "-keyform", "DER", "-rawin", "-in", str(tmp / "message"),
                 "-sigfile", str(tmp / "sig")],
                capture_output=True, check=False)
        except FileNotFoundError:
            print("error: the `openssl` command is not installed (apt-get install openssl)",
                  file=sys.stderr)
            sys.exit(2)
    if run.returncode != 0:
        raise Refused("the signature does not verify with the manifest's device key")


def is_hex(text, length):
    return (isinstance(text, str) and len(text) == length
            and all(c in "0123456789abcdef" for c in text))


def split_lines(data, at_least):
    if not data.endswith(b"\n"):
        raise Refused("the bundle does not end with a newline: truncated?")
    raw_lines = data[:-1].split(b"\n")
    if len(raw_lines) < at_least:
        raise Refused("a bundle has a manifest, at least one entry and a signature")
    try:
        return raw_lines, [raw.decode("utf-8") for raw in raw_lines]
    except UnicodeDecodeError:
        raise Refused("the bundle is not UTF-8 text")


def verify(data, registered_fingerprint):
    """Checks a version-1 bundle's bytes; returns a one-line summary, or raises Refused."""
    raw_lines, lines = split_lines(data, 3)
    manifest, device_key, found = check_manifest(lines[0], 1, registered_fingerprint)
    check_entries(manifest, lines[1:-1])
    signature = {k: v for k, (v, _, _) in top_level_spans(lines[-1]).items()}
    if set(signature) != {"signature"} or not is_hex(signature["signature"], 128):
        raise Refused("the last line is not the signature (128 hex digits)")
    signed_bytes = b"\n".join(raw_lines[:-1]) + b"\n"
    message = b"truce-bundle-v1\n" + hashlib.sha256(signed_bytes).digest()
    verify_signature(device_key, message, signature["signature"])
    return summary(manifest, found)


def verify_v2(folder, registered_fingerprint):
    """Checks an extracted version-2 bundle; returns a one-line summary, or raises Refused."""
    folder = Path(folder)
    entries_file = folder / "entries.jsonl"
    if not entries_file.is_file():
        raise Refused(f"{entries_file} is missing: run `cat {folder}/entries.jsonl.zst.* | "
                      f"zstd -d > {entries_file}` first")
    data = entries_file.read_bytes()
    _, lines = split_lines(data, 2)
    manifest, device_key, found = check_manifest(lines[0], 2, registered_fingerprint)
    order = check_entries(manifest, lines[1:])
    # A text-first bundle leaves some files for a later bundle; each is named by a record here.
    pending = manifest.get("pending_attachments") or []
    for digest in pending:
        if digest not in order:
            raise Refused(f"pending attachment {digest} is named by no record of the bundle")
    order = [digest for digest in order if digest not in pending]
    # Without the feature "attachments" (a bundle that only says where receipts go back to),
    # the manifest announces none and the archive carries none.
    announced = manifest.get("attachments") or {"count": 0, "bytes": 0}
    files = sorted(p for p in (folder / "attachments").glob("*")) if (folder / "attachments").is_dir() else []
    held = {}
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != path.name:
            raise Refused(f"attachment {path.name}: its bytes hash to {digest} (altered)")
        held[path.name] = path.stat().st_size
    if set(held) != set(order):
        missing = sorted(set(order) - set(held))
        extra = sorted(set(held) - set(order))
        raise Refused(f"the attachments differ from those the records name (missing: {missing}, "
                      f"named by no record: {extra})")
    if announced.get("count") != len(held) or announced.get("bytes") != sum(held.values()):
        raise Refused(f"the manifest announces {announced.get('count')} attachments of "
                      f"{announced.get('bytes')} bytes; there are {len(held)} of {sum(held.values())}")
    signature_file = folder / "signature.json"
    if not signature_file.is_file():
        raise Refused("signature.json is missing")
    signature = json.loads(signature_file.read_bytes())
    if set(signature) != {"signature"} or not is_hex(signature["signature"], 128):
        raise Refused("signature.json does not hold a signature (128 hex digits)")
    message = (b"truce-bundle-v2\n" + hashlib.sha256(data).digest()
               + b"".join(bytes.fromhex(h) for h in order))
    verify_signature(device_key, message, signature["signature"])
    return summary(manifest, found) + f", {len(order)} attachment(s) matching their hashes"


def summary(manifest, found):
    return (f"ok: {manifest['entry_count']} entries, seq {manifest['first_seq']}-"
            f"{manifest['last_seq']}, of device {manifest.get('device_id')} "
            f"({manifest.get('observer')}), signed by the registered key {found}")


def check_manifest(line, version, registered_fingerprint):
    manifest = {k: v for k, (v, _, _) in top_level_spans(line).items()}
    if manifest.get("format") != "truce-bundle":
        raise Refused("the first line is not a Truce bundle manifest")
    if manifest.get("version") not in (1, 2):
        raise Refused(f"bundle format version {manifest.get('version')!r}: this verifier "
                      "knows versions 1 and 2; use the verify-bundle.py of a newer Truce")
    if manifest.get("version") != version:
        raise Refused(f"a version-{manifest.get('version')} manifest in a version-{version} "
                      "bundle: give a version-2 bundle as its extracted folder, a version-1 "
                      "bundle as its JSON Lines")
    device_key = manifest.get("device_key")
    if not is_hex(device_key, 64):
        raise Refused("the manifest's device_key is not 64 hex digits")
    found = fingerprint(device_key)
    if normalise(found) != normalise(registered_fingerprint):
        raise Refused(f"the bundle is signed by the key with fingerprint {found}, not the key "
                      f"registered for this device ({registered_fingerprint}): it was re-signed "
                      "or comes from another device")
    return manifest, device_key, found


def check_entries(manifest, entries):
    """Checks every entry's hash and the chain; returns the attachments' SHA-256 in the order
    the records first name them."""
    first, last, count = (manifest.get(k) for k in ("first_seq", "last_seq", "entry_count"))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (first, last, count)):
        raise Refused("the manifest's first_seq, last_seq and entry_count must be integers")
    if count != len(entries) or count != last - first + 1 or first < 1:
        raise Refused(f"the manifest announces {count} entries ({first}-{last}); "
                      f"the bundle holds {len(entries)}")

    prev = None
    order = []
    for offset, line in enumerate(entries):
        spans = top_level_spans(line)
        seq = spans.get("seq", (None,))[0]
        expected = first + offset
        if seq != expected:
            raise Refused(f"entry {offset + 1} has seq {seq!r} where seq {expected} belongs")
        prev_hash = spans.get("prev_hash", (None,))[0]
        hash_ = spans.get("hash", (None,))[0]
        if not is_hex(prev_hash, 64) or not is_hex(hash_, 64):
            raise Refused(f"entry seq {seq}: prev_hash and hash must be 64 hex digits")
        if "record" not in spans:
            raise Refused(f"entry seq {seq} has no record")
        _, start, end = spans["record"]
        record_bytes = line[start:end].encode("utf-8")
        if prev is not None and prev_hash != prev:
            raise Refused(f"entry seq {seq} does not follow seq {seq - 1} (the chain is broken)")
        if seq == 1 and prev_hash != ZERO_HASH:
            raise Refused("entry seq 1 must follow the zero hash")
        if entry_hash(seq, prev_hash, record_bytes) != hash_:
            raise Refused(f"entry seq {seq}: the record does not match its hash "
                          "(altered after it was signed)")
        prev = hash_
        for attachment in json.loads(record_bytes).get("attachments", []):
            name = attachment.get("sha256")
            if not is_hex(name, 64):
                raise Refused(f"entry seq {seq} names an attachment without a valid sha256")
            if name not in order:
                order.append(name)
    return order


def main():
    parser = argparse.ArgumentParser(
        description="Verify a decrypted Truce bundle: version 1 as the output of "
                    "`age -d | zstd -d`, version 2 as the folder `age -d | tar -x` made.")
    parser.add_argument("bundle", help="the decrypted bundle, JSON Lines ('-' for stdin), or "
                                       "the extracted folder of a version-2 bundle")
    parser.add_argument("--fingerprint", required=True,
                        help="the fingerprint registered for the device, e.g. '3f2a 91c0 ...'")
    args = parser.parse_args()
    try:
        if args.bundle != "-" and Path(args.bundle).is_dir():
            print(verify_v2(args.bundle, args.fingerprint))
            return
        data = sys.stdin.buffer.read() if args.bundle == "-" else Path(args.bundle).read_bytes()
        print(verify(data, args.fingerprint))
    except Refused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        sys.exit(1)
    except (json.JSONDecodeError, ValueError) as e:
        print(f"refused: the bundle is not valid JSON Lines ({e})", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
