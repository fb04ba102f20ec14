//! The store's side of the coordinator workspace: the verification trail, filtered queries over
//! every device's records, and what is known of each device. All SQL for it lives here.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension};
use truce_sync::verification::VerificationStatus;
use truce_sync::{ObservationKey, ObservationRevision};
use uuid::Uuid;

use super::revocations::AFTER_REVOCATION_SQL;
use super::{RawRevision, Store, StoreError, COUNTED_DEVICE};
use crate::model::{KnownDevice, ObservationFilter, QueueRow, SortOrder, VerificationEvent};

/// The ORDER BY clause of a queue query in this order.
fn order_by(order: SortOrder) -> &'static str {
    match order {
        SortOrder::NewestObserved => "c.observed_at_ms DESC, c.observation_id DESC",
        SortOrder::OldestObserved => "c.observed_at_ms ASC, c.observation_id ASC",
        SortOrder::NewestRecorded => "c.recorded_at DESC, c.observed_at_ms DESC",
        SortOrder::Severity => {
            "coalesce(json_extract(c.body, '$.severity'), 0) DESC, c.observed_at_ms DESC"
        }
        SortOrder::Kind => "c.kind, c.category, c.observed_at_ms DESC",
    }
}

const STATUS_SQL: &str = "coalesce((SELECT v.status FROM verification v WHERE v.observation_id = c.observation_id AND v.device_id = c.device_id ORDER BY v.id DESC LIMIT 1), 'unverified')";

/// The other devices that used a row's id, comma-separated (NULL if none).
const SHARED_ID_SQL: &str = "(SELECT group_concat(DISTINCT o.device_id) FROM observation_revision o
      WHERE o.observation_id = c.observation_id AND o.device_id <> c.device_id)";

impl Store {
    /// Appends a step to an observation's verification trail.
    pub fn add_verification(
        &self,
        key: ObservationKey,
        event: &VerificationEvent,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO verification (observation_id, device_id, status, note, by_observer, by_device, at) VALUES (?1, ?7, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.id.to_string(),
                event.status.code(),
                event.note,
                event.by_observer,
                event.by_device.to_string(),
                event.at,
                key.device_id.to_string(),
            ],
        )?;
        Ok(())
    }

    /// An observation's verification trail, oldest first.
    pub fn verification_trail(
        &self,
        key: ObservationKey,
    ) -> Result<Vec<VerificationEvent>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT status, note, by_observer, by_device, at FROM verification
             WHERE observation_id = ?1 AND device_id = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map([key.id.to_string(), key.device_id.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (status, note, by_observer, by_device, at) = row?;
            Ok(VerificationEvent {
                status: VerificationStatus::from_code(&status).ok_or_else(|| {
                    StoreError::Damaged(format!("unknown verification status `{status}`"))
                })?,
                note,
                by_observer,
                by_device: Uuid::parse_str(&by_device)
                    .map_err(|e| StoreError::Damaged(e.to_string()))?,
                at,
            })
        })
        .collect()
    }

    /// Calls `f` for the latest revision of every observation that matches `filter`, newest
    /// first, streaming from the database.
    pub fn each_matching<E: From<StoreError>>(
        &self,
        filter: &ObservationFilter,
        mut f: impl FnMut(QueueRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut sql = format!(
            "SELECT c.body, c.revision, c.recorded_at, c.device_id, c.observer, {STATUS_SQL} AS status,
                    NOT {COUNTED_DEVICE} AS pending, {SHARED_ID_SQL} AS shared,
                    {AFTER_REVOCATION_SQL} AS after_revocation
             FROM observation_current c WHERE 1 = 1"
        );
        if !filter.include_pending_devices {
            sql.push_str(&format!(" AND {COUNTED_DEVICE}"));
        }
        let mut args: Vec<SqlValue> = Vec::new();
        let mut push = |clause: &str, value: SqlValue, sql: &mut String| {
            args.push(value);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(from) = filter.from_ms {
            push(
                " AND c.observed_at_ms >= ?",
                SqlValue::Integer(from),
                &mut sql,
            );
        }
        if let Some(to) = filter.to_ms {
            push(" AND c.observed_at_ms < ?", SqlValue::Integer(to), &mut sql);
        }
        if let Some(device) = filter.device {
            push(
                " AND c.device_id = ?",
                SqlValue::Text(device.to_string()),
                &mut sql,
            );
        }
        if let Some(text) = &filter.text {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            push(
                " AND json_extract(c.body, '$.narrative') LIKE '%' || ? || '%' ESCAPE '\\'",
                SqlValue::Text(escaped),
                &mut sql,
            );
        }
        for (column, values) in [
            ("c.kind", &filter.kinds),
            ("c.category", &filter.categories),
        ] {
            if !values.is_empty() {
                sql.push_str(&format!(" AND {column} IN ("));
                for (i, v) in values.iter().enumerate() {
                    push(
                        if i == 0 { "?" } else { ", ?" },
                        SqlValue::Text(v.clone()),
                        &mut sql,
                    );
                }
                sql.push(')');
            }
        }
        if !filter.statuses.is_empty() {
            sql.push_str(&format!(" AND {STATUS_SQL} IN ("));
            for (i, s) in filter.statuses.iter().enumerate() {
                push(
                    if i == 0 { "?" } else { ", ?" },
                    SqlValue::Text(s.code().into()),
                    &mut sql,
                );
            }
            sql.push(')');
        }
        sql.push_str(" ORDER BY ");
        sql.push_str(order_by(filter.sort));
        if let Some(limit) = filter.limit {
            push(" LIMIT ?", SqlValue::Integer(i64::from(limit)), &mut sql);
        }
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let raw = RawRevision {
                body: row.get(0).map_err(StoreError::from)?,
                revision: row.get(1).map_err(StoreError::from)?,
                recorded_at: row.get(2).map_err(StoreError::from)?,
                device_id: row.get(3).map_err(StoreError::from)?,
                observer: row.get(4).map_err(StoreError::from)?,
            };
            let status: String = row.get(5).map_err(StoreError::from)?;
            let status = VerificationStatus::from_code(&status).ok_or_else(|| {
                StoreError::Damaged(format!("unknown verification status `{status}`"))
            })?;
            let device_pending: bool = row.get(6).map_err(StoreError::from)?;
            let shared: Option<String> = row.get(7).map_err(StoreError::from)?;
            let id_also_used_by = shared
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|d| !d.is_empty())
                .map(|d| Uuid::parse_str(d).map_err(|e| StoreError::Damaged(e.to_string())))
                .collect::<Result<_, _>>()?;
            let after_revocation: bool = row.get(8).map_err(StoreError::from)?;
            f(QueueRow {
                revision: raw.decode()?,
                status,
                device_pending,
                id_also_used_by,
                after_revocation,
            })?;
        }
        Ok(())
    }

    /// The event an observation is linked to, if any.
    pub fn event_of(&self, key: ObservationKey) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT event_id FROM event_link WHERE observation_id = ?1 AND device_id = ?2 LIMIT 1",
                [key.id.to_string(), key.device_id.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Links observations as one event, in one transaction (already linked ones are kept).
    pub fn link_event(
        &mut self,
        event_id: &str,
        keys: &[ObservationKey],
        by: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for key in keys {
            tx.execute(
                "INSERT OR IGNORE INTO event_link (event_id, observation_id, device_id, linked_by, at) VALUES (?1, ?2, ?5, ?3, ?4)",
                params![event_id, key.id.to_string(), by, at, key.device_id.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every event with its linked observations, newest link first.
    pub fn events(&self) -> Result<Vec<(String, Vec<ObservationKey>)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT event_id, observation_id, device_id FROM event_link
             ORDER BY event_id DESC, observation_id, device_id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut out: Vec<(String, Vec<ObservationKey>)> = Vec::new();
        for row in rows {
            let (event, id, device) = row?;
            let uuid = |t: &str| Uuid::parse_str(t).map_err(|e| StoreError::Damaged(e.to_string()));
            let key = ObservationKey {
                id: uuid(&id)?,
                device_id: uuid(&device)?,
            };
            match out.last_mut() {
                Some((last, keys)) if *last == event => keys.push(key),
                _ => out.push((event, vec![key])),
            }
        }
        Ok(out)
    }

    /// The latest revision of every observation of `kind` observed in `[from_ms, to_ms]`
    /// (Unix milliseconds), by time (indexed on `observed_at_ms`): candidates for linking as
    /// one event. At most `limit` rows.
    pub fn link_candidates(
        &self,
        kind: &str,
        from_ms: i64,
        to_ms: i64,
        limit: u32,
    ) -> Result<Vec<ObservationRevision>, StoreError> {
        self.query_revisions(
            "SELECT c.body, c.revision, c.recorded_at, c.device_id, c.observer
             FROM observation_current c
             WHERE c.observed_at_ms BETWEEN ?1 AND ?2 AND c.kind = ?3
             ORDER BY c.observed_at_ms, c.observation_id LIMIT ?4",
            params![from_ms, to_ms, kind, limit],
        )
    }

    /// Every device a coordinator has received bundles from, with the gaps in its log, those
    /// still pending first. Entries held are counted from the imports (each one records how
    /// many it added), not by scanning the entries.
    pub fn known_devices(&self) -> Result<Vec<KnownDevice>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT d.device_id, d.device_key, d.observer, d.last_bundle_at, d.accepted_at,
                    (SELECT coalesce(sum(b.new_entries), 0) FROM bundle_import b
                     WHERE b.device_id = d.device_id AND b.status = 'imported'),
                    (SELECT coalesce(max(seq), 0) FROM received_entry r WHERE r.device_id = d.device_id),
                    (SELECT max(b.created_at_ms) FROM bundle_import b
                     WHERE b.device_id = d.device_id AND b.status = 'imported'),
                    d.newest_entry_ms
             FROM known_device d ORDER BY d.accepted_at IS NOT NULL, d.observer, d.device_id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, u64>(5)?,
                row.get::<_, u64>(6)?,
                row.get::<_, Option<i64>>(7)?,
                row.get::<_, Option<i64>>(8)?,
            ))
        })?;
        let utc = |ms: Option<i64>| {
            ms.and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        rows.map(|row| {
            let (
                id,
                device_key,
                observer,
                last_bundle_at,
                accepted_at,
                entries,
                last_seq,
                made,
                newest,
            ) = row?;
            let device_id = Uuid::parse_str(&id).map_err(|e| StoreError::Damaged(e.to_string()))?;
            let key = truce_sync::bundle::parse_device_key(&device_key).ok_or_else(|| {
                StoreError::Damaged(format!(
                    "the stored key of device {device_id} is unreadable"
                ))
            })?;
            Ok(KnownDevice {
                device_id,
                observer,
                fingerprint: truce_sync::fingerprint(&key),
                last_bundle_at,
                latest_bundle_created_at: utc(made),
                newest_entry_at: utc(newest),
                entries,
                last_seq,
                gaps: self.received_gaps(device_id)?,
                accepted_at,
                revoked: self
                    .revocation(device_id)?
                    .map(|r| (r.after_seq, r.revoked_at.to_rfc3339(), r.reason)),
            })
        })
        .collect()
    }

    /// Accepts a device whose fingerprint the coordinator confirmed: from now on its records
    /// count in alerts, reports and exports. The kept alerts are swept again from its earliest
    /// record. False if it was accepted already; [`StoreError::NotFound`] if no bundle came
    /// from it.
    pub fn accept_device(&mut self, device_id: Uuid, at: &str) -> Result<bool, StoreError> {
        let device = device_id.to_string();
        let tx = self.conn.transaction()?;
        let known: Option<Option<String>> = tx
            .query_row(
                "SELECT accepted_at FROM known_device WHERE device_id = ?1",
                [&device],
                |row| row.get(0),
            )
            .optional()?;
        match known {
            None => return Err(StoreError::NotFound(device)),
            Some(Some(_)) => return Ok(false),
            Some(None) => {}
        }
        tx.execute(
            "UPDATE known_device SET accepted_at = ?2 WHERE device_id = ?1",
            params![device, at],
        )?;
        tx.execute(
            "UPDATE alert_sweep SET touched_from_ms = min(coalesce(touched_from_ms, earliest), earliest)
             FROM (SELECT min(observed_at_ms) AS earliest FROM observation_revision WHERE device_id = ?1)
             WHERE earliest IS NOT NULL",
            [&device],
        )?;
        tx.commit()?;
        Ok(true)
    }
}
