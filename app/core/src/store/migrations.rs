//! Embedded, numbered, append-only schema migrations, applied in order on every open.

use rusqlite::Connection;

use super::StoreError;

/// One migration: its number (also the `user_version` it leaves behind), name and SQL.
pub struct Migration {
    /// 1, 2, 3, ... with no gaps.
    pub version: u32,
    /// The file name under `app/core/migrations/`, without `.sql`.
    pub name: &'static str,
    /// The SQL, run in one transaction.
    pub sql: &'static str,
}

/// Every migration, oldest first. Append only: a shipped migration is never edited.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_journal",
        sql: include_str!("../../migrations/0001_journal.sql"),
    },
    Migration {
        version: 2,
        name: "0002_sync",
        sql: include_str!("../../migrations/0002_sync.sql"),
    },
    Migration {
        version: 3,
        name: "0003_verification",
        sql: include_str!("../../migrations/0003_verification.sql"),
    },
    Migration {
        version: 4,
        name: "0004_drafts",
        sql: include_str!("../../migrations/0004_drafts.sql"),
    },
    Migration {
        version: 5,
        name: "0005_preferences",
        sql: include_str!("../../migrations/0005_preferences.sql"),
    },
    Migration {
        version: 6,
        name: "0006_bundle_ranges",
        sql: include_str!("../../migrations/0006_bundle_ranges.sql"),
    },
    Migration {
        version: 7,
        name: "0007_received_body_once",
        sql: include_str!("../../migrations/0007_received_body_once.sql"),
    },
    Migration {
        version: 8,
        name: "0008_alerts_index",
        sql: include_str!("../../migrations/0008_alerts_index.sql"),
    },
    Migration {
        version: 9,
        name: "0009_alert_sweep",
        sql: include_str!("../../migrations/0009_alert_sweep.sql"),
    },
    Migration {
        version: 10,
        name: "0010_received_entry_compact",
        sql: include_str!("../../migrations/0010_received_entry_compact.sql"),
    },
    Migration {
        version: 11,
        name: "0011_observation_owner",
        sql: include_str!("../../migrations/0011_observation_owner.sql"),
    },
    Migration {
        version: 12,
        name: "0012_device_activity",
        sql: include_str!("../../migrations/0012_device_activity.sql"),
    },
    Migration {
        version: 13,
        name: "0013_attachments",
        sql: include_str!("../../migrations/0013_attachments.sql"),
    },
    Migration {
        version: 14,
        name: "0014_evidence_trail",
        sql: include_str!("../../migrations/0014_evidence_trail.sql"),
    },
    Migration {
        version: 15,
        name: "0015_text_first_exports",
        sql: include_str!("../../migrations/0015_text_first_exports.sql"),
    },
    Migration {
        version: 16,
        name: "0016_receipts",
        sql: include_str!("../../migrations/0016_receipts.sql"),
    },
    Migration {
        version: 17,
        name: "0017_purge",
        sql: include_str!("../../migrations/0017_purge.sql"),
    },
    Migration {
        version: 18,
        name: "0018_revocations",
        sql: include_str!("../../migrations/0018_revocations.sql"),
    },
    Migration {
        version: 19,
        name: "0019_enrolment",
        sql: include_str!("../../migrations/0019_enrolment.sql"),
    },
    Migration {
        version: 20,
        name: "0020_forward",
        sql: include_str!("../../migrations/0020_forward.sql"),
    },
    Migration {
        version: 21,
        name: "0021_earlier_identities",
        sql: include_str!("../../migrations/0021_earlier_identities.sql"),
    },
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the database up to [`latest`], one transaction per migration. Returns the versions
/// it applied.
pub fn migrate(conn: &mut Connection) -> Result<Vec<u32>, StoreError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > latest() {
        return Err(StoreError::TooNew {
            found: current,
            known: latest(),
        });
    }
    let mut applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", migration.version)?;
        tx.commit()?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
        applied.push(migration.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn versions_are_contiguous_and_named_after_their_number() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn migration_8_fills_the_position_of_revisions_already_held_and_keeps_them_append_only() {
        let mut conn = Connection::open_in_memory().expect("memory");
        for m in &MIGRATIONS[..7] {
            conn.execute_batch(m.sql).expect("older migration");
        }
        conn.pragma_update(None, "user_version", 7)
            .expect("version");
        let insert = "INSERT INTO observation_revision
               (observation_id, revision, device_id, observer, recorded_at, observed_at_ms, kind, category, body)
             VALUES (?1, 1, 'd', 'Ana', '2026-11-30T00:00:00Z', 0, 'violation', 'shelling', ?2)";
        conn.execute(insert, ["a", r#"{"id":"a","lat":48.5,"lon":-37.25}"#])
            .expect("with a position");
        conn.execute(insert, ["b", r#"{"id":"b"}"#])
            .expect("without one");
        assert_eq!(
            migrate(&mut conn).expect("migrate"),
            (8..=latest()).collect::<Vec<_>>()
        );
        let position = |id: &str| -> (Option<f64>, Option<f64>) {
            conn.query_row(
                "SELECT lat, lon FROM observation_revision WHERE observation_id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("row")
        };
        assert_eq!(position("a"), (Some(48.5), Some(-37.25)));
        assert_eq!(position("b"), (None, None));
        let refused = conn
            .execute("UPDATE observation_revision SET lat = 0", [])
            .expect_err("still append-only");
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }

    #[test]
    fn migration_10_keeps_every_received_record_and_hash_as_it_was_signed() {
        let mut conn = Connection::open_in_memory().expect("memory");
        for m in &MIGRATIONS[..9] {
            conn.execute_batch(m.sql).expect("older migration");
        }
        conn.pragma_update(None, "user_version", 9)
            .expect("version");
        conn.execute(
            "INSERT INTO observation_revision
               (observation_id, revision, device_id, observer, recorded_at, observed_at_ms, kind, category, body)
             VALUES ('o1', 1, 'd1', 'Ana \"K\" Ødegård', '2026-11-30T00:00:00+00:00', 0, 'violation', 'shelling', '{\"id\":\"o1\"}')",
            [],
        )
        .expect("revision");
        let canonical = r#","revision":1,"recorded_at":"2026-11-30T00:00:00+00:00","device_id":"d1","observer":"Ana \"K\" Ødegård"}"#;
        let other = r#","revision":1,"recorded_at":"2026-11-30T00:00:00Z","device_id":"d1","observer":"Ana \"K\" Ødegård"}"#;
        let (a, b) = ("ab".repeat(32), "cd".repeat(32));
        let entry = "INSERT INTO received_entry
               (device_id, seq, prev_hash, hash, record, bundle_id, observation_id, revision)
             VALUES ('d1', ?1, ?2, ?3, ?4, 'b', ?5, ?6)";
        // seq, prev_hash, hash, record, observation_id, revision
        type Row<'a> = (i64, &'a str, &'a str, &'a str, Option<&'a str>, Option<i64>);
        let rows: [Row<'_>; 4] = [
            (1, &a, &b, canonical, Some("o1"), Some(1)),
            (2, &b, &a, other, Some("o1"), Some(1)),
            (3, &a, &b, r#"{"id":"whole"}"#, None, None),
            (4, "zz", "", r#"{"id":"damaged"}"#, None, None),
        ];
        for (seq, prev, hash, record, id, revision) in rows {
            conn.execute(
                entry,
                rusqlite::params![seq, prev, hash, record, id, revision],
            )
            .expect("entry");
        }
        let records = |conn: &Connection| -> Vec<(String, String, String, Option<String>)> {
            conn.prepare(
                "SELECT device_id, prev_hash, hash, record FROM received_record ORDER BY seq",
            )
            .expect("prepare")
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
        };
        let before = records(&conn);
        assert_eq!(
            migrate(&mut conn).expect("migrate"),
            (10..=latest()).collect::<Vec<_>>()
        );
        assert_eq!(records(&conn), before, "every record and hash as before");
        assert_eq!(
            before[0].3.as_deref(),
            Some(&*format!("{{\"id\":\"o1\"{canonical}"))
        );

        // Canonical metadata is no longer kept; hashes are bytes where they were hex.
        let stored: Vec<(Option<String>, String)> = conn
            .prepare("SELECT record, typeof(hash) FROM received_entry ORDER BY seq")
            .expect("prepare")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(stored[0], (None, "blob".into()));
        assert_eq!(stored[1], (Some(other.into()), "blob".into()));
        assert_eq!(stored[2].1, "blob");
        assert_eq!(
            stored[3],
            (Some(r#"{"id":"damaged"}"#.into()), "text".into())
        );
        let no_rowid = conn
            .query_row("SELECT rowid FROM received_entry", [], |row| {
                row.get::<_, i64>(0)
            })
            .expect_err("keyed by (device_id, seq) alone");
        assert!(no_rowid.to_string().contains("rowid"), "{no_rowid}");
        for refused in [
            "UPDATE received_entry SET bundle_id = 'x'",
            "DELETE FROM received_entry",
        ] {
            let err = conn.execute(refused, []).expect_err("append-only");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        let duplicate = conn
            .execute(
                entry,
                rusqlite::params![1, a, b, "{}", None::<String>, None::<i64>],
            )
            .expect_err("one entry per (device, seq)");
        assert!(duplicate.to_string().contains("UNIQUE"), "{duplicate}");
    }

    #[test]
    fn migration_12_fills_each_devices_newest_entry_from_the_revisions_held() {
        let mut conn = Connection::open_in_memory().expect("memory");
        for m in &MIGRATIONS[..11] {
            conn.execute_batch(m.sql).expect("older migration");
        }
        conn.pragma_update(None, "user_version", 11)
            .expect("version");
        for device in ["d1", "d2"] {
            conn.execute(
                "INSERT INTO known_device (device_id, device_key, observer, first_seen) VALUES (?1, 'k', 'Ana', '2026-11-01T00:00:00Z')",
                [device],
            )
            .expect("device");
        }
        let insert = "INSERT INTO observation_revision
               (observation_id, revision, device_id, observer, recorded_at, observed_at_ms, kind, category, body)
             VALUES (?1, 1, 'd1', 'Ana', ?2, 0, 'violation', 'shelling', '{}')";
        // The later instant is the one written with an offset: text order would pick the other.
        conn.execute(insert, ["a", "2026-11-30T20:00:00Z"])
            .expect("revision");
        conn.execute(insert, ["b", "2026-11-30T23:30:00+02:00"])
            .expect("revision");
        migrate(&mut conn).expect("migrate");
        let newest = |device: &str| -> Option<i64> {
            conn.query_row(
                "SELECT newest_entry_ms FROM known_device WHERE device_id = ?1",
                [device],
                |row| row.get(0),
            )
            .expect("row")
        };
        let expected = chrono::DateTime::parse_from_rfc3339("2026-11-30T23:30:00+02:00")
            .expect("time")
            .timestamp_millis();
        assert_eq!(newest("d1"), Some(expected));
        assert_eq!(newest("d2"), None, "a device with no record held has none");
    }

    /// Migration 17's exception to the append-only log is narrow: only while `purge_run`
    /// holds its row, and only emptying a record, seq, hashes and revision unchanged.
    #[test]
    fn the_log_may_only_lose_records_during_a_purge_run() {
        let mut conn = Connection::open_in_memory().expect("memory");
        migrate(&mut conn).expect("migrate");
        conn.execute(
            "INSERT INTO device_log (seq, observation_id, revision, prev_hash, hash, record)
             VALUES (1, 'o', 1, 'p', 'h', '{\"narrative\":\"x\"}')",
            [],
        )
        .expect("entry");
        let blank = "UPDATE device_log SET record = '' WHERE seq = 1";
        let refused = conn.execute(blank, []).expect_err("no purge run");
        assert!(refused.to_string().contains("append-only"), "{refused}");
        assert!(conn.execute("DELETE FROM device_log", []).is_err());
        conn.execute("INSERT INTO purge_run (singleton) VALUES (1)", [])
            .expect("run");
        for change in [
            "UPDATE device_log SET hash = 'forged' WHERE seq = 1",
            "UPDATE device_log SET record = '{}' WHERE seq = 1",
            "DELETE FROM device_log WHERE seq = 1",
        ] {
            assert!(conn.execute(change, []).is_err(), "{change}");
        }
        assert_eq!(conn.execute(blank, []).expect("purged"), 1);
        conn.execute("DELETE FROM purge_run", []).expect("end");
        let (hash, record): (String, String) = conn
            .query_row("SELECT hash, record FROM device_log", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("row");
        assert_eq!((hash.as_str(), record.as_str()), ("h", ""));
    }

    /// Shipped migrations are frozen: if this fails, you edited one. Revert it and add a new
    /// migration instead. Append the hash of each new migration when it ships.
    #[test]
    fn shipped_migrations_are_unchanged() {
        let shipped = [
            "55446015487bfe16c2e860259d358af98c38b754c3746522a9bae5be0f29fa08",
            "a2949146fabe1e99465c12b91964270ed11d07d1f77588422dbfe90640f6a6a2",
            "e96ebe4b4dea7d1bfaa9528f3cbf7d52213ee830d9d4f663fa111f94e6f06ec1",
            "3c211417fa3483b9e0a7f16b16db567ea983ddec14bc2d9028761f67e289a264",
            "e9c5fe67d813cf9932a969872140c5890cd23ea3160e6d66d20697deb78c8e0e",
            "ffcb4bf22aaff282bf2c6756a49eadaa9b808906c10fd27d4f9bfc2d21f38041",
            "c9bf37fbbadaceae2ec302cbb755a688f0ae38d4a98e30c2732a2e3ec7d93b0d",
            "5536e3192e1bf7af5b2c789d7e4fc9ff85271f47d96a45d1f83bf60035a3fc9f",
            "ba4b9e5572138d6d364556ae924dbe083d8afdd3544bc8a49268b09709326ecc",
            "181f36ce8bfd48ccafb3f870b6304ae6ad42e5bd7552bb4d0d34eb29130d9323",
            "e355a5ea201ebde6d400d5f99e5e9e68019d15ffeda3327c3819abab8b2cf72b",
            "98e9aff03920861e94645ff60575206cd3ad7fae970e68b9ab67007277007629",
            "015f8ec9a79d975a8700d7af7c9e0793e90adc5979220c04f3ad17c72c254b4e",
            "39d01decc26ebeced766db1a5b4731b34074024ad48266a17ee546825684cda6",
            "b45a6a72066c6c9e8e77ce92c69941e34b57864878192fa780635fb0163739af",
            "160acd476ff230c73bcdc5fe9f9a3ff5c2df8464fbc191fceaebc44bad625bb9",
            "a2e63a6d7f0913991fe757672d74c6c15270b0b21df798e6ae4a76f8daf3b07e",
            "3b8e47ef732457aea3603bb70eb023aa301e828c24dabae6deec6b59fdeff899",
            "317533facf0391e797d96b2426d54e5cb3d819ae9bad4677f9b4b5964fc9625b",
            "a3e825f97e4e985ac8c294a764cbfdc6c47017b432210742406bc89190452763",
            "a37b94a9d90a375544b98a8537f20b4f5e2366ed80f034e9b175103f5331fbb0",
        ];
        assert_eq!(
            shipped.len(),
            MIGRATIONS.len(),
            "pin the new migration's hash here"
        );
        for (m, expected) in MIGRATIONS.iter().zip(shipped) {
            let actual = hex::encode(Sha256::digest(m.sql.as_bytes()));
            assert_eq!(
                actual, expected,
                "migration {} was edited after it shipped",
                m.name
            );
        }
    }
}
