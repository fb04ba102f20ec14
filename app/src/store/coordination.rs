//! The store's side of the coordinator workspace: the verification trail, filtered queries over
//! every device's records, and what is known of each device. All SQL for it lives here.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension};
use truce_sync::verification::VerificationStatus;
use truce_sync::ObservationRevision;
use uuid::Uuid;

use super::{RawRevision, Store, StoreError};

/// One step of an observation's verification trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationEvent {
    /// The status given.
    pub status: VerificationStatus,
    /// Why.
    pub note: String,
    /// Who gave it.
    pub by_observer: String,
    /// From which device.
    pub by_device: Uuid,
    /// When (RFC 3339).
    pub at: String,
}

/// Which observations a query covers. Empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservationFilter {
    /// Observed at or after (Unix milliseconds).
    pub from_ms: Option<i64>,
    /// Observed before (Unix milliseconds).
    pub to_ms: Option<i64>,
    /// Kind codes.
    pub kinds: Vec<String>,
    /// Category codes.
    pub categories: Vec<String>,
    /// Verification statuses.
    pub statuses: Vec<VerificationStatus>,
    /// The recording device.
    pub device: Option<Uuid>,
    /// Words that must appear in the narrative (case-insensitive).
    pub text: Option<String>,
    /// At most this many rows.
    pub limit: Option<u32>,
    /// The order of the rows (newest observation first by default).
    pub sort: SortOrder,
}

/// How the incident queue is sorted. Ties keep the newest observation first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Newest observation first.
    #[default]
    NewestObserved,
    /// Oldest observation first.
    OldestObserved,
    /// Most recently saved (or amended) first.
    NewestRecorded,
    /// Highest severity first (unassessed last).
    Severity,
    /// By kind, then category.
    Kind,
}

impl SortOrder {
    fn sql(self) -> &'static str {
        match self {
            SortOrder::NewestObserved => "c.observed_at_ms DESC, c.observation_id DESC",
            SortOrder::OldestObserved => "c.observed_at_ms ASC, c.observation_id ASC",
            SortOrder::NewestRecorded => "c.recorded_at DESC, c.observed_at_ms DESC",
            SortOrder::Severity => {
                "coalesce(json_extract(c.body, '$.severity'), 0) DESC, c.observed_at_ms DESC"
            }
            SortOrder::Kind => "c.kind, c.category, c.observed_at_ms DESC",
        }
    }
}

/// An observation with its current verification status.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    /// The latest revision.
    pub revision: ObservationRevision,
    /// Its current status.
    pub status: VerificationStatus,
}

/// What the coordinator knows of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatus {
    /// The device.
    pub device_id: Uuid,
    /// Its public key, hex.
    pub device_key: String,
    /// The observer named in its first bundle.
    pub observer: String,
    /// When its latest bundle was imported.
    pub last_bundle_at: Option<String>,
    /// Entries held.
    pub entries: u64,
    /// Highest sequence number held.
    pub last_seq: u64,
}

const STATUS_SQL: &str = "coalesce((SELECT v.status FROM verification v WHERE v.observation_id = c.observation_id ORDER BY v.id DESC LIMIT 1), 'unverified')";

impl Store {
    /// Whether an observation with this exact id is held.
    pub fn has_observation(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM observation_revision WHERE observation_id = ?1)",
            [id.to_string()],
            |row| row.get(0),
        )?)
    }

    /// Appends a step to an observation's verification trail.
    pub fn add_verification(&self, id: Uuid, event: &VerificationEvent) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO verification (observation_id, status, note, by_observer, by_device, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id.to_string(),
                event.status.code(),
                event.note,
                event.by_observer,
                event.by_device.to_string(),
                event.at
            ],
        )?;
        Ok(())
    }

    /// An observation's verification trail, oldest first.
    pub fn verification_trail(&self, id: Uuid) -> Result<Vec<VerificationEvent>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT status, note, by_observer, by_device, at FROM verification WHERE observation_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id.to_string()], |row| {
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
            "SELECT c.body, c.revision, c.recorded_at, c.device_id, c.observer, {STATUS_SQL} AS status
             FROM observation_current c WHERE 1 = 1"
        );
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
        sql.push_str(filter.sort.sql());
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
            f(QueueRow {
                revision: raw.decode()?,
                status,
            })?;
        }
        Ok(())
    }

    /// The event an observation is linked to, if any.
    pub fn event_of(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT event_id FROM event_link WHERE observation_id = ?1 LIMIT 1",
                [id.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Links observations as one event, in one transaction (already linked ones are kept).
    pub fn link_event(
        &mut self,
        event_id: &str,
        ids: &[Uuid],
        by: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute(
                "INSERT OR IGNORE INTO event_link (event_id, observation_id, linked_by, at) VALUES (?1, ?2, ?3, ?4)",
                params![event_id, id.to_string(), by, at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every event with its linked observations, newest link first.
    pub fn events(&self) -> Result<Vec<(String, Vec<Uuid>)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT event_id, observation_id FROM event_link ORDER BY event_id DESC, observation_id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut out: Vec<(String, Vec<Uuid>)> = Vec::new();
        for row in rows {
            let (event, id) = row?;
            let id = Uuid::parse_str(&id).map_err(|e| StoreError::Damaged(e.to_string()))?;
            match out.last_mut() {
                Some((last, ids)) if *last == event => ids.push(id),
                _ => out.push((event, vec![id])),
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

    /// Every device a coordinator has received bundles from.
    /// Entries held are counted from the imports (each one records how many it added), not by
    /// scanning the entries.
    pub fn device_statuses(&self) -> Result<Vec<DeviceStatus>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT d.device_id, d.device_key, d.observer, d.last_bundle_at,
                    (SELECT coalesce(sum(b.new_entries), 0) FROM bundle_import b
                     WHERE b.device_id = d.device_id AND b.status = 'imported'),
                    (SELECT coalesce(max(seq), 0) FROM received_entry r WHERE r.device_id = d.device_id)
             FROM known_device d ORDER BY d.observer, d.device_id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, u64>(4)?,
                row.get::<_, u64>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, device_key, observer, last_bundle_at, entries, last_seq) = row?;
            Ok(DeviceStatus {
                device_id: Uuid::parse_str(&id).map_err(|e| StoreError::Damaged(e.to_string()))?,
                device_key,
                observer,
                last_bundle_at,
                entries,
                last_seq,
            })
        })
        .collect()
    }
}
