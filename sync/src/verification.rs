//! Verification statuses a coordinator gives observations, from `unverified` to `verified`.

use serde::{Deserialize, Serialize};

/// Where an observation stands after the coordinator's checks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Not checked yet (the default).
    #[default]
    Unverified,
    /// Supported by another independent report.
    Corroborated,
    /// Confirmed.
    Verified,
    /// Contradicted by other information.
    Disputed,
    /// Shown to be without basis.
    Unfounded,
}

impl VerificationStatus {
    /// Every status, in workflow order.
    pub const ALL: [VerificationStatus; 5] = [
        VerificationStatus::Unverified,
        VerificationStatus::Corroborated,
        VerificationStatus::Verified,
        VerificationStatus::Disputed,
        VerificationStatus::Unfounded,
    ];

    /// The status code, as stored and typed.
    pub fn code(self) -> &'static str {
        match self {
            VerificationStatus::Unverified => "unverified",
            VerificationStatus::Corroborated => "corroborated",
            VerificationStatus::Verified => "verified",
            VerificationStatus::Disputed => "disputed",
            VerificationStatus::Unfounded => "unfounded",
        }
    }

    /// The status for a code.
    pub fn from_code(code: &str) -> Option<VerificationStatus> {
        VerificationStatus::ALL
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// Whether a public export includes this status by default.
    pub fn is_publishable(self) -> bool {
        matches!(
            self,
            VerificationStatus::Verified | VerificationStatus::Corroborated
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_only_confirmed_statuses_publish() {
        for s in VerificationStatus::ALL {
            assert_eq!(VerificationStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(VerificationStatus::from_code("Verified"), None);
        let publishable: Vec<_> = VerificationStatus::ALL
            .into_iter()
            .filter(|s| s.is_publishable())
            .collect();
        assert_eq!(
            publishable,
            vec![
                VerificationStatus::Corroborated,
                VerificationStatus::Verified
            ]
        );
    }
}
