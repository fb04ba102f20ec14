//! Data exports: every counted record as CSV, GeoJSON or HXL, full or redacted for the public,
//! written atomically.

use std::io::BufWriter;
use std::path::Path;

use truce_sync::verification::VerificationStatus;

use crate::fsutil::AtomicFile;
use crate::journal::{Journal, JournalError};
use crate::model::ObservationFilter;
use crate::publish::{row_values, DataFormat, DataWriter, PublicOptions};

impl Journal {
    /// Writes the observations matching `filter` to `out` atomically; returns the row count.
    /// A public export keeps only verified and corroborated records unless `filter` names
    /// statuses, redacts as [`crate::publish::row_values`] describes, and is signed: its
    /// minisign signature is written beside it (`OUT.minisig`, see
    /// [`Journal::sign_publication`]).
    pub fn export_data(
        &self,
        format: DataFormat,
        filter: &ObservationFilter,
        public: Option<PublicOptions>,
        out: &Path,
    ) -> Result<u64, JournalError> {
        let mut filter = filter.clone();
        if public.is_some() && filter.statuses.is_empty() {
            filter.statuses = VerificationStatus::ALL
                .into_iter()
                .filter(|s| s.is_publishable())
                .collect();
        }
        if let Some(p) = public {
            if !(p.grid_deg > 0.0 && p.grid_deg <= 10.0) {
                return Err(JournalError::Refused(
                    "the grid must be between 0 and 10 degrees".into(),
                ));
            }
        }
        let (areas, parties) = self
            .profile()?
            .map(|p| (p.profile.areas, p.profile.parties))
            .unwrap_or_default();
        let io = |e: std::io::Error| JournalError::Io {
            action: "write",
            path: out.to_path_buf(),
            cause: e,
        };
        let file = AtomicFile::create(out).map_err(io)?;
        let mut writer =
            DataWriter::new(BufWriter::new(file), format, public.is_some()).map_err(io)?;
        self.store.each_matching(&filter, |row| {
            // What a revoked device's key signed past its cut-off is never published.
            if public.is_some() && row.after_revocation {
                return Ok(());
            }
            writer
                .row(&row_values(&row, &areas, &parties, public.as_ref()))
                .map_err(io)
        })?;
        let (buffered, rows) = writer.finish().map_err(io)?;
        let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
        file.commit().map_err(io)?;
        if public.is_some() {
            self.sign_publication(out)?;
        }
        Ok(rows)
    }
}
