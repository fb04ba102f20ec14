//! The store's side of the coordinator's working preferences: a small key/value table inside
//! the encrypted journal (never the plaintext settings file). Values are opaque text here.

use rusqlite::params;

use super::{Store, StoreError};

impl Store {
    /// Every stored preference as `(key, value)`, by key.
    pub fn preferences(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM preference ORDER BY key")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets every `(key, value)` given, in one transaction; `at` is when (RFC 3339).
    pub fn save_preferences(
        &mut self,
        values: &[(&str, String)],
        at: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO preference (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )?;
            for (key, value) in values {
                stmt.execute(params![key, value, at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores `value` under `key` as it is, without any check (tests of garbled values).
    #[cfg(test)]
    pub(crate) fn put_raw_preference(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO preference (key, value, updated_at) VALUES (?1, ?2, 'test')",
            params![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyfile::DatabaseKey;
    use crate::store::DeviceIdentity;
    use truce_sync::{DeviceSigningKey, Role};

    #[test]
    fn preferences_round_trip_and_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = DatabaseKey::generate(crate::keyfile::PageSize::Standard).expect("random");
        let device = DeviceIdentity {
            device_id: uuid::Uuid::now_v7(),
            observer: "HQ".into(),
            team: None,
            role: Role::Coordinator,
            signing_key: DeviceSigningKey::from_bytes(&[7u8; 32]),
            created_at: "2026-11-24T21:00:00+00:00".into(),
        };
        let path = dir.path().join("journal.db");
        let mut store = Store::create(&path, &key, &device).expect("create");
        assert!(store.preferences().expect("read").is_empty());
        store
            .save_preferences(&[("b", "1".into()), ("a", "\"x\"".into())], "t1")
            .expect("save");
        store
            .save_preferences(&[("b", "2".into())], "t2")
            .expect("overwrite");
        drop(store);
        let store = Store::open(&path, &key).expect("reopen");
        assert_eq!(
            store.preferences().expect("read"),
            vec![("a".into(), "\"x\"".into()), ("b".into(), "2".into())]
        );
    }
}
