//! A hostile-input corpus of bundles, built from raw layers (JSON Lines -> zstd -> age) so any
//! part can be wrong on purpose; each case with the outcome a coordinator must report.

use std::io::Write;

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Builds bundles byte by byte, so any part can be wrong on purpose.
pub struct Forger {
    /// The key it signs with.
    pub key: SigningKey,
    /// The device id it claims.
    pub device_id: String,
    counter: std::cell::Cell<u64>,
}

impl Forger {
    /// A device with a fixed key and id made from `seed`.
    pub fn new(seed: u8) -> Forger {
        Forger::claiming(seed, &uuid::Uuid::from_bytes([seed; 16]).to_string())
    }

    /// A device with a fixed key from `seed` that claims `device_id`.
    pub fn claiming(seed: u8, device_id: &str) -> Forger {
        Forger {
            key: SigningKey::from_bytes(&[seed; 32]),
            device_id: device_id.to_owned(),
            counter: std::cell::Cell::new(0),
        }
    }

    fn next_id(&self) -> uuid::Uuid {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.key.verifying_key().as_bytes()[..8]);
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }

    /// A valid record of this device, with `extra` fields merged in.
    pub fn record(&self, n: u64, extra: Value) -> String {
        let mut record = json!({
            "id": self.next_id().to_string(), "kind": "violation", "category": "shelling",
            "observed_at": "2026-11-24T05:30:00+03:00", "method": "heard", "event_count": n,
            "revision": 1, "recorded_at": "2026-11-24T05:31:00+03:00",
            "device_id": self.device_id, "observer": "Forger",
        });
        if let (Value::Object(r), Value::Object(e)) = (&mut record, extra) {
            r.extend(e);
        }
        record.to_string()
    }

    /// Entry lines for `records`, chained from `first` after `prev`.
    pub fn entries(
        &self,
        first: u64,
        prev: [u8; 32],
        records: &[String],
    ) -> (Vec<String>, [u8; 32]) {
        let mut prev = prev;
        let mut lines = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let seq = first + i as u64;
            let mut h = Sha256::new();
            h.update(format!("truce-entry-v1\n{seq}\n{}\n", hex::encode(prev)));
            h.update(record.as_bytes());
            let hash: [u8; 32] = h.finalize().into();
            lines.push(format!(
                r#"{{"seq":{seq},"prev_hash":"{}","hash":"{}","record":{record}}}"#,
                hex::encode(prev),
                hex::encode(hash)
            ));
            prev = hash;
        }
        (lines, prev)
    }

    /// A manifest for `count` entries from `first`.
    pub fn manifest(&self, first: u64, count: u64) -> String {
        json!({"format": "truce-bundle", "version": 1, "bundle_id": hex::encode(self.next_id().as_bytes()),
               "device_id": self.device_id, "device_key": hex::encode(self.key.verifying_key().as_bytes()),
               "observer": "Forger", "mission": "Mission East", "created_at": "2026-11-24T06:00:00+03:00",
               "first_seq": first, "last_seq": first + count - 1, "entry_count": count})
        .to_string()
    }

    /// Manifest + entries + a signature by `signer`, as plaintext.
    pub fn signed(&self, signer: &SigningKey, body: &[String]) -> Vec<u8> {
        let mut plain = Vec::new();
        for line in body {
            plain.extend_from_slice(line.as_bytes());
            plain.push(b'\n');
        }
        let digest = Sha256::digest(&plain);
        let mut message = b"truce-bundle-v1\n".to_vec();
        message.extend_from_slice(&digest);
        let sig = signer.sign(&message);
        plain.extend_from_slice(
            format!(r#"{{"signature":"{}"}}"#, hex::encode(sig.to_bytes())).as_bytes(),
        );
        plain.push(b'\n');
        plain
    }

    /// Version 2 without attachments: the JSON Lines (manifest and entries) and the
    /// `signature.json` signing them with this forger's key.
    pub fn signed_v2(&self, body: &[String]) -> (Vec<u8>, String) {
        let mut plain = Vec::new();
        for line in body {
            plain.extend_from_slice(line.as_bytes());
            plain.push(b'\n');
        }
        let mut message = b"truce-bundle-v2\n".to_vec();
        message.extend_from_slice(&Sha256::digest(&plain));
        let sig = self.key.sign(&message);
        let signature = format!(r#"{{"signature":"{}"}}"#, hex::encode(sig.to_bytes()));
        (plain, signature)
    }

    /// A whole, valid bundle in plaintext; returns the last entry's hash too.
    pub fn bundle(&self, first: u64, prev: [u8; 32], records: &[String]) -> (Vec<u8>, [u8; 32]) {
        let (entries, last) = self.entries(first, prev, records);
        let mut body = vec![self.manifest(first, records.len() as u64)];
        body.extend(entries);
        (self.signed(&self.key, &body), last)
    }
}

/// zstd, as bundles use it.
pub fn compress(plain: &[u8]) -> Vec<u8> {
    zstd::encode_all(plain, 3).expect("zstd")
}

/// age-encrypts to `recipient`.
pub fn seal(compressed: &[u8], recipient: &str) -> Vec<u8> {
    let recipient: age::x25519::Recipient = recipient.parse().expect("recipient");
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .expect("encryptor");
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).expect("wrap");
    w.write_all(compressed).expect("write");
    w.finish().expect("finish");
    out
}

/// What importing a case must do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Expect {
    /// Refused, with a reason that contains `reason` (case-insensitive).
    Refused {
        /// Part of the reason.
        reason: String,
    },
    /// Imported, with these counts and gaps afterwards.
    Imported {
        /// New entries.
        new_entries: u64,
        /// Entries already held.
        known_entries: u64,
        /// Missing ranges after the import.
        gaps: Vec<(u64, u64)>,
    },
}

/// One case: a file name, its bytes, and what importing it must do. Cases run in order.
pub struct Case {
    /// File name, e.g. `03-truncated.age`.
    pub name: String,
    /// The bundle's bytes.
    pub bytes: Vec<u8>,
    /// The outcome.
    pub expect: Expect,
}

fn refused(reason: &str) -> Expect {
    Expect::Refused {
        reason: reason.into(),
    }
}

/// The whole corpus, encrypted to `recipient`. The first case is a valid bundle that registers
/// the device; the last two (a replay and a gap) are accepted.
pub fn cases(recipient: &str) -> Vec<Case> {
    let to = recipient;
    let good = Forger::new(1);
    let genesis = [0u8; 32];
    let (first_plain, after_two) = good.bundle(
        1,
        genesis,
        &[good.record(1, json!({})), good.record(2, json!({}))],
    );
    let sealed_first = seal(&compress(&first_plain), to);
    let mut list: Vec<(&str, Vec<u8>, Expect)> = vec![(
        "first",
        sealed_first.clone(),
        Expect::Imported {
            new_entries: 2,
            known_entries: 0,
            gaps: vec![],
        },
    )];
    list.push((
        "truncated",
        sealed_first[..sealed_first.len() / 2].to_vec(),
        refused("truncated"),
    ));
    for (region, at, reason) in [
        ("bit-flip-header", 30, ""),
        ("bit-flip-body", sealed_first.len() / 2, "damaged"),
        ("bit-flip-tail", sealed_first.len() - 3, "damaged"),
    ] {
        let mut flipped = sealed_first.clone();
        flipped[at] ^= 0x01;
        list.push((region, flipped, refused(reason)));
    }
    let stranger = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    list.push((
        "wrong-recipient",
        seal(&compress(&first_plain), stranger),
        refused("wrong recipient"),
    ));

    let (entries, _) = good.entries(3, after_two, &[good.record(3, json!({}))]);
    let mut body = vec![good.manifest(3, 1)];
    body.extend(entries.clone());
    let mut unsigned = Vec::new();
    for line in &body {
        unsigned.extend_from_slice(line.as_bytes());
        unsigned.push(b'\n');
    }
    list.push((
        "no-signature",
        seal(&compress(&unsigned), to),
        refused("signature"),
    ));
    let other = SigningKey::from_bytes(&[9u8; 32]);
    list.push((
        "wrong-signature",
        seal(&compress(&good.signed(&other, &body)), to),
        refused("signature"),
    ));

    let impostor = Forger::claiming(9, &good.device_id);
    let (plain, _) = impostor.bundle(3, after_two, &[impostor.record(3, json!({}))]);
    list.push((
        "another-key-claims-the-device",
        seal(&compress(&plain), to),
        refused("another key"),
    ));

    let (mut swapped, _) = good.entries(
        3,
        after_two,
        &[good.record(3, json!({})), good.record(4, json!({}))],
    );
    swapped.swap(0, 1);
    let mut body = vec![good.manifest(3, 2)];
    body.extend(swapped);
    list.push((
        "out-of-order",
        seal(&compress(&good.signed(&good.key, &body)), to),
        refused("out of order"),
    ));

    let first_text = String::from_utf8_lossy(&first_plain).into_owned();
    let entry_two: Value =
        serde_json::from_str(first_text.lines().nth(2).unwrap_or("{}")).unwrap_or(Value::Null);
    let mut after_one = [0u8; 32];
    let _ = hex::decode_to_slice(
        entry_two["prev_hash"].as_str().unwrap_or(""),
        &mut after_one,
    );
    let (plain, _) = good.bundle(2, after_one, &[good.record(99, json!({}))]);
    list.push((
        "conflicting-entry",
        seal(&compress(&plain), to),
        refused("tampering"),
    ));

    let (plain, _) = good.bundle(
        3,
        after_two,
        &[good.record(3, json!({"lat": 95.0, "lon": 10.0}))],
    );
    list.push((
        "schema-violation",
        seal(&compress(&plain), to),
        refused("`lat`"),
    ));
    let (plain, _) = good.bundle(
        3,
        after_two,
        &[good.record(3, json!({"narrative": "x".repeat(10_001)}))],
    );
    list.push((
        "oversize-field",
        seal(&compress(&plain), to),
        refused("`narrative`"),
    ));
    let (plain, _) = good.bundle(
        3,
        after_two,
        &[good.record(3, json!({"narrative": "x".repeat(300_000)}))],
    );
    list.push((
        "oversize-line",
        seal(&compress(&plain), to),
        refused("too large"),
    ));

    let mut bomb = zstd::Encoder::new(Vec::new(), 3).unwrap_or_else(|e| panic!("zstd: {e}"));
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        let _ = bomb.write_all(&zeros);
    }
    let bomb = bomb.finish().unwrap_or_default();
    list.push(("decompression-bomb", seal(&bomb, to), refused("too large")));

    // A record whose attachment's name climbs out of any folder: refused by the schema,
    // whatever a reader would do with the name.
    let (traversal, _) = good.bundle(
        3,
        after_two,
        &[good.record(
            3,
            json!({"attachments": [{"sha256": "ab".repeat(32), "size": 10,
                                    "media_type": "image/jpeg", "name": "../../../etc/passwd"}]}),
        )],
    );
    list.push((
        "path-traversal-attachment",
        seal(&compress(&traversal), to),
        refused("not a plain file name"),
    ));

    let mut bad_utf8 = good.manifest(3, 1).into_bytes();
    bad_utf8.push(b'\n');
    let mut entry = entries[0].clone().into_bytes();
    let at = entry.len() - 10;
    entry[at] = 0xff;
    bad_utf8.extend_from_slice(&entry);
    bad_utf8.push(b'\n');
    list.push((
        "invalid-utf8",
        seal(&compress(&bad_utf8), to),
        refused("UTF-8"),
    ));
    list.push((
        "not-a-bundle",
        b"just some text\n".to_vec(),
        refused("not a truce bundle"),
    ));

    list.push((
        "replayed",
        sealed_first,
        Expect::Imported {
            new_entries: 0,
            known_entries: 2,
            gaps: vec![],
        },
    ));
    let (plain, _) = good.bundle(5, [7u8; 32], &[good.record(5, json!({}))]);
    list.push((
        "gap",
        seal(&compress(&plain), to),
        Expect::Imported {
            new_entries: 1,
            known_entries: 0,
            gaps: vec![(3, 4)],
        },
    ));

    // Sequence numbers past what a device log can reach (2^53 - 1) are refused by the reader
    // with a reason, never stop the run: 2^63 does not fit SQLite's integers, and 2^63 - 1
    // would leave no room for the seq after it.
    for (name, first) in [
        ("seq-beyond-sqlite", 1u64 << 63),
        ("seq-at-the-integer-limit", i64::MAX as u64),
    ] {
        let (entries, _) = good.entries(first, after_two, &[good.record(1, json!({}))]);
        let mut body = vec![good.manifest(first, 1)];
        body.extend(entries);
        list.push((
            name,
            seal(&compress(&good.signed(&good.key, &body)), to),
            refused("beyond the largest"),
        ));
    }
    // A stranger's device sends "revision 2" of the first device's first observation, reusing
    // its id: imported as the stranger's own observation (its revision 1 never sent: a gap),
    // never as a revision of the first device's.
    let victim_id = first_text
        .lines()
        .nth(1)
        .and_then(|line| serde_json::from_str::<Value>(line).ok())
        .and_then(|entry| entry["record"]["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let stranger = Forger::new(3);
    let (plain, _) = stranger.bundle(
        2,
        [5u8; 32],
        &[stranger.record(
            7,
            json!({"id": victim_id, "revision": 2, "narrative": "rewritten by a stranger"}),
        )],
    );
    list.push((
        "another-device-reuses-an-id",
        seal(&compress(&plain), to),
        Expect::Imported {
            new_entries: 1,
            known_entries: 0,
            gaps: vec![(1, 1)],
        },
    ));

    let mut cases = numbered(0, list);
    cases.extend(numbered(30, terminal_cases(to)));
    cases.extend(numbered(40, attachment_cases(to)));
    cases
}

/// A version-2 archive: the JSON Lines as one entries member, then `members` as given, then
/// the signature by `forger` over the lines and `signed` (attachment hashes in order).
fn archive_v2(
    forger: &Forger,
    lines: &[String],
    members: &[(String, Vec<u8>)],
    signed: &[[u8; 32]],
) -> Vec<u8> {
    let mut plain = Vec::new();
    for line in lines {
        plain.extend_from_slice(line.as_bytes());
        plain.push(b'\n');
    }
    let mut message = b"truce-bundle-v2\n".to_vec();
    message.extend_from_slice(&Sha256::digest(&plain));
    for hash in signed {
        message.extend_from_slice(hash);
    }
    let signature = format!(
        r#"{{"signature":"{}"}}"#,
        hex::encode(forger.key.sign(&message).to_bytes())
    );
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        if h.set_path(name).is_err() {
            // A name the tar crate will not write (`..`): put its bytes in the field as they are.
            let field = &mut h.as_mut_bytes()[..100];
            field.fill(0);
            field[..name.len()].copy_from_slice(name.as_bytes());
        }
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        builder.append(&h, data).expect("member");
    };
    add("entries.jsonl.zst.00000", &compress(&plain));
    for (name, data) in members {
        add(name, data);
    }
    add("signature.json", signature.as_bytes());
    builder.into_inner().expect("archive")
}

/// Cases 40 on: version-2 bundles whose attachments are wrong, each from a device of its own.
fn attachment_cases(to: &str) -> Vec<(&'static str, Vec<u8>, Expect)> {
    let genesis = [0u8; 32];
    let photo = b"\xFF\xD8\xFF\xE0 a photo of the crater".to_vec();
    let hash: [u8; 32] = Sha256::digest(&photo).into();
    let named = |size: usize| {
        json!({"attachments": [{"sha256": hex::encode(hash), "size": size,
                                "media_type": "image/jpeg", "name": "crater.jpg"}]})
    };
    let manifest_v2 = |forger: &Forger, count: u64, bytes: u64| {
        let mut m: Value = serde_json::from_str(&forger.manifest(1, 1)).unwrap_or(Value::Null);
        m["version"] = json!(2);
        m["features"] = json!(["attachments"]);
        m["attachments"] = json!({"count": count, "bytes": bytes});
        m.to_string()
    };
    let member = |hash: &[u8; 32]| format!("attachments/{}", hex::encode(hash));
    let mut list = Vec::new();

    // Bytes that are not the file the record names.
    let f = Forger::new(40);
    let (entries, _) = f.entries(1, genesis, &[f.record(1, named(photo.len()))]);
    let mut lines = vec![manifest_v2(&f, 1, photo.len() as u64)];
    lines.extend(entries);
    let mut swapped = photo.clone();
    swapped[10] ^= 1;
    list.push((
        "attachment-hash-mismatch",
        seal(
            &archive_v2(&f, &lines, &[(member(&hash), swapped)], &[hash]),
            to,
        ),
        refused("does not match its hash"),
    ));

    // Cut in the middle of the attachment.
    let f = Forger::new(41);
    let (entries, _) = f.entries(1, genesis, &[f.record(1, named(photo.len()))]);
    let mut lines = vec![manifest_v2(&f, 1, photo.len() as u64)];
    lines.extend(entries);
    let whole = archive_v2(&f, &lines, &[(member(&hash), photo.clone())], &[hash]);
    let at = whole
        .windows(photo.len())
        .position(|w| w == &photo[..])
        .unwrap_or(whole.len() / 2)
        + photo.len() / 2;
    list.push((
        "attachment-truncated",
        seal(&whole[..at], to),
        refused("ends inside a member"),
    ));

    // An attachment no record of the bundle names.
    let f = Forger::new(42);
    let (entries, _) = f.entries(1, genesis, &[f.record(1, json!({}))]);
    let mut lines = vec![manifest_v2(&f, 1, photo.len() as u64)];
    lines.extend(entries);
    list.push((
        "attachment-named-by-no-record",
        seal(
            &archive_v2(&f, &lines, &[(member(&hash), photo.clone())], &[hash]),
            to,
        ),
        refused("named by no record"),
    ));

    // Over the limit of one attachment (200 MiB), said by its header.
    let f = Forger::new(43);
    let big = 300 * 1024 * 1024;
    let (entries, _) = f.entries(1, genesis, &[f.record(1, named(photo.len()))]);
    let mut lines = vec![manifest_v2(&f, 1, big)];
    lines.extend(entries);
    let mut archive = archive_v2(&f, &lines, &[(member(&hash), photo.clone())], &[hash]);
    let header_at = archive
        .windows(12)
        .position(|w| w == b"attachments/")
        .unwrap_or(0);
    let size = format!("{big:011o}\0");
    archive[header_at + 124..header_at + 136].copy_from_slice(size.as_bytes());
    let mut header = tar::Header::new_old();
    header
        .as_mut_bytes()
        .copy_from_slice(&archive[header_at..header_at + 512]);
    header.set_cksum();
    archive[header_at..header_at + 512].copy_from_slice(header.as_bytes());
    list.push((
        "attachment-over-the-limit",
        seal(&archive, to),
        refused("over the limit"),
    ));

    // The same attachment twice.
    let f = Forger::new(44);
    let (entries, _) = f.entries(1, genesis, &[f.record(1, named(photo.len()))]);
    let mut lines = vec![manifest_v2(&f, 2, 2 * photo.len() as u64)];
    lines.extend(entries);
    list.push((
        "attachment-twice",
        seal(
            &archive_v2(
                &f,
                &lines,
                &[
                    (member(&hash), photo.clone()),
                    (member(&hash), photo.clone()),
                ],
                &[hash, hash],
            ),
            to,
        ),
        refused("twice"),
    ));

    // A version-1 manifest in a version-2 archive (and so a version-2 body behind a version-1
    // header).
    let f = Forger::new(45);
    let (entries, _) = f.entries(1, genesis, &[f.record(1, json!({}))]);
    let mut lines = vec![f.manifest(1, 1)];
    lines.extend(entries);
    list.push((
        "version-2-body-behind-a-version-1-manifest",
        seal(&archive_v2(&f, &lines, &[], &[]), to),
        refused("version-1 manifest in a version-2 archive"),
    ));

    // A path-traversal member name.
    let f = Forger::new(46);
    let (entries, _) = f.entries(1, genesis, &[f.record(1, named(photo.len()))]);
    let mut lines = vec![manifest_v2(&f, 1, photo.len() as u64)];
    lines.extend(entries);
    list.push((
        "attachment-path-traversal",
        seal(
            &archive_v2(
                &f,
                &lines,
                &[("../../.bashrc".into(), photo.clone())],
                &[hash],
            ),
            to,
        ),
        refused("which no Truce bundle has"),
    ));

    // An image bomb: a PNG of 30,000 × 30,000 pixels (900 megapixels, 3.6 GB once decoded)
    // in a little over a hundred kilobytes.
    let f = Forger::new(47);
    let bomb = png_bomb(30_000);
    let bomb_hash: [u8; 32] = Sha256::digest(&bomb).into();
    let named_bomb = json!({"attachments": [{"sha256": hex::encode(bomb_hash), "size": bomb.len(),
                                             "media_type": "image/png", "name": "panorama.png"}]});
    let (entries, _) = f.entries(1, genesis, &[f.record(1, named_bomb)]);
    let mut lines = vec![manifest_v2(&f, 1, bomb.len() as u64)];
    lines.extend(entries);
    list.push((
        "attachment-image-bomb",
        seal(
            &archive_v2(&f, &lines, &[(member(&bomb_hash), bomb)], &[bomb_hash]),
            to,
        ),
        refused("more than the 120 megapixels"),
    ));
    list
}

/// A valid PNG of `side` × `side` black pixels, one bit each: it compresses about a
/// thousand to one, so a decoder that trusts its header allocates gigabytes.
pub fn png_bomb(side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().expect("PNG header");
        let mut stream = writer.stream_writer().expect("PNG stream");
        let row = vec![0u8; (side as usize).div_ceil(8)];
        for _ in 0..side {
            std::io::Write::write_all(&mut stream, &row).expect("PNG row");
        }
        stream.finish().expect("PNG end");
    }
    out
}

/// Cases numbered from `from`, in order.
fn numbered(from: usize, list: Vec<(&str, Vec<u8>, Expect)>) -> Vec<Case> {
    list.into_iter()
        .enumerate()
        .map(|(i, (name, bytes, expect))| Case {
            name: format!("{:02}-{name}.age", from + i),
            bytes,
            expect,
        })
        .collect()
}

/// Text meant to drive the coordinator's terminal: erase the line, move up, print a fake
/// success over the refusal (and over the fingerprint of a new device).
pub const TERMINAL_ATTACK: &str =
    "\u{1b}[2K\r\u{1b}[1A00-first.age: device 01010101…: 2 new, 0 already known\u{1b}[8m";

/// Cases 30 on: control characters in a bundle's text, each from a device of its own, each
/// refused with a reason that names the field (issue 15, item 4).
fn terminal_cases(to: &str) -> Vec<(&'static str, Vec<u8>, Expect)> {
    let mut list = Vec::new();
    let genesis = [0u8; 32];

    // The observer name in the manifest (and in the records).
    let device = Forger::new(30);
    let records = [device.record(1, json!({"observer": TERMINAL_ATTACK}))];
    let (entries, _) = device.entries(1, genesis, &records);
    let mut manifest: Value = serde_json::from_str(&device.manifest(1, 1)).unwrap_or(Value::Null);
    manifest["observer"] = json!(TERMINAL_ATTACK);
    let mut body = vec![manifest.to_string()];
    body.extend(entries);
    list.push((
        "observer-escape-sequences",
        seal(&compress(&device.signed(&device.key, &body)), to),
        refused("observer name holds the control character U+001B"),
    ));

    // The observer name in a record only.
    let device = Forger::new(31);
    let (plain, _) = device.bundle(
        1,
        genesis,
        &[device.record(1, json!({"observer": TERMINAL_ATTACK}))],
    );
    list.push((
        "record-observer-escape-sequences",
        seal(&compress(&plain), to),
        refused("`observer`: holds the control character U+001B"),
    ));

    // An unknown manifest key: serde's message quotes it into the reason.
    let device = Forger::new(32);
    let (entries, _) = device.entries(1, genesis, &[device.record(1, json!({}))]);
    let mut manifest: Value = serde_json::from_str(&device.manifest(1, 1)).unwrap_or(Value::Null);
    manifest[TERMINAL_ATTACK] = json!(true);
    let mut body = vec![manifest.to_string()];
    body.extend(entries);
    list.push((
        "unknown-manifest-key-escape-sequences",
        seal(&compress(&device.signed(&device.key, &body)), to),
        refused("unknown field"),
    ));

    // C1 controls (CSI as one character) in a place, and a carriage return in a narrative.
    let device = Forger::new(33);
    let (plain, _) = device.bundle(
        1,
        genesis,
        &[device.record(1, json!({"place": "hill 4\u{9b}2K\u{9b}1A"}))],
    );
    list.push((
        "place-c1-controls",
        seal(&compress(&plain), to),
        refused("`place`: holds the control character U+009B"),
    ));
    let device = Forger::new(34);
    let (plain, _) = device.bundle(
        1,
        genesis,
        &[device.record(1, json!({"narrative": "all quiet\rshelling, 40 rounds"}))],
    );
    list.push((
        "narrative-carriage-return",
        seal(&compress(&plain), to),
        refused("`narrative`: holds the control character U+000D"),
    ));
    list
}
