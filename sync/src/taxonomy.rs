//! The taxonomy of observation kinds and categories; the built-in default until missions bring their own.

use serde::{Deserialize, Serialize};

/// One code in a taxonomy, with the label people see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    /// Stable machine code, as it appears in schema v1 records (`shelling`).
    pub code: String,
    /// Human label in English (`Shelling`).
    pub label: String,
}

/// The kinds and categories a mission accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxonomy {
    /// Top-level classes (`violation`, `incident`, ...).
    pub kinds: Vec<Code>,
    /// Categories within the kinds (`shelling`, `small_arms`, ...).
    pub categories: Vec<Code>,
}

fn codes(pairs: &[(&str, &str)]) -> Vec<Code> {
    pairs
        .iter()
        .map(|(code, label)| Code {
            code: (*code).to_owned(),
            label: (*label).to_owned(),
        })
        .collect()
}

impl Taxonomy {
    /// The built-in default taxonomy of ../shared/DOMAIN.md (schema v1).
    pub fn builtin() -> Self {
        Taxonomy {
            kinds: codes(&[
                ("violation", "Violation"),
                ("incident", "Incident"),
                ("movement_restriction", "Movement restriction"),
                ("de_escalation", "De-escalation"),
                ("other", "Other"),
            ]),
            categories: codes(&[
                ("shelling", "Shelling"),
                ("small_arms", "Small arms fire"),
                ("airstrike_drone", "Airstrike or drone"),
                ("armed_clash", "Armed clash"),
                ("heavy_weapons_movement", "Heavy weapons movement"),
                ("mine_uxo", "Mine or UXO"),
                ("armed_presence", "Armed presence"),
                ("civilian_harm", "Civilian harm"),
                ("infrastructure_damage", "Infrastructure damage"),
                ("detention_abduction", "Detention or abduction"),
                ("aid_obstruction", "Aid obstruction"),
                ("monitor_obstruction", "Monitor obstruction"),
                ("withdrawal_verified", "Withdrawal verified"),
                ("local_truce", "Local truce"),
                ("other", "Other"),
            ]),
        }
    }

    /// Whether `code` is one of this taxonomy's kinds.
    pub fn has_kind(&self, code: &str) -> bool {
        self.kinds.iter().any(|k| k.code == code)
    }

    /// Whether `code` is one of this taxonomy's categories.
    pub fn has_category(&self, code: &str) -> bool {
        self.categories.iter().any(|c| c.code == code)
    }

    /// The kind codes, comma-separated, for error messages.
    pub fn kind_list(&self) -> String {
        join_codes(&self.kinds)
    }

    /// The category codes, comma-separated, for error messages.
    pub fn category_list(&self) -> String {
        join_codes(&self.categories)
    }
}

fn join_codes(codes: &[Code]) -> String {
    codes
        .iter()
        .map(|c| c.code.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_taxonomy_has_domain_codes() {
        let t = Taxonomy::builtin();
        for kind in [
            "violation",
            "incident",
            "movement_restriction",
            "de_escalation",
            "other",
        ] {
            assert!(t.has_kind(kind), "{kind}");
        }
        assert!(t.has_category("shelling"));
        assert!(t.has_category("local_truce"));
        assert!(!t.has_category("Shelling"));
        assert!(!t.has_kind("shelling"));
        assert!(t.category_list().starts_with("shelling, small_arms"));
    }
}
