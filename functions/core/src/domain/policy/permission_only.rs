//! Permission-only actions: the Service Authorization Reference marks them
//! `[permission only]`, as they are checked by a service but are no API call of their
//! own, so access advisor never records them as used. The IAM User Guide says so of the
//! best known one ("Refining permissions in AWS using last accessed information": "The
//! `iam:PassRole` action is not tracked and is not included in IAM action last accessed
//! information"). A service used only through them looks unused; the rewrite keeps them
//! and says why.
//!
//! Where each entry was read (looked up, not guessed):
//! - `iam:PassRole`: Service Authorization Reference, "Actions, resources, and condition
//!   keys for AWS Identity and Access Management (IAM)" (`list_awsidentityandaccessmanagementiam.html`,
//!   a copy fetched 2026-03-06): the only IAM action marked `[permission only]`.
//! - `logs:*LogDelivery`, `cloudsearch:document|search|suggest`: the Service Authorization
//!   Reference pages as the IAM User Guide carried them (awsdocs/iam-user-guide, commit
//!   b585974, `doc_source/list_amazoncloudwatchlogs.md`, `list_amazoncloudsearch.md`).
//!
//! That 2020 copy marks 161 actions in 26 services as `[permission only]`; most belong to
//! consoles and retired services (Honeycode, WorkDocs, Marketplace's private marketplace,
//! Trusted Advisor's console) and, being dated, are not listed here. Extending this table
//! from the current reference (a generated list) is left for later; every entry widens
//! the `*` narrowing by one action, so entries should be those a principal may really need.
//! (`account:CloseAccount` is marked too, but was seen only quoted in scrapers' code, not
//! in a copy of the reference itself, so it is not listed.)

use crate::domain::policy::actions::ActionPattern;

/// The permission-only actions the rewrite keeps though no report shows them used.
pub const PERMISSION_ONLY: &[&str] = &[
    "iam:PassRole",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:UpdateLogDelivery",
    "cloudsearch:document",
    "cloudsearch:search",
    "cloudsearch:suggest",
];

/// Whether an action (not a pattern) is permission-only, as IAM compares: ignoring case.
pub fn is_permission_only(action: &str) -> bool {
    PERMISSION_ONLY
        .iter()
        .any(|p| p.eq_ignore_ascii_case(action))
}

/// The permission-only actions a pattern grants, in the table's order.
pub fn granted_by(pattern: &ActionPattern) -> impl Iterator<Item = &'static str> + '_ {
    PERMISSION_ONLY
        .iter()
        .copied()
        .filter(move |a| pattern.matches(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_role_is_permission_only_in_any_case() {
        assert!(is_permission_only("iam:PassRole"));
        assert!(is_permission_only("IAM:passrole"));
        assert!(!is_permission_only("iam:CreateRole"));
    }

    #[test]
    fn the_permission_only_actions_of_a_pattern() {
        let iam = ActionPattern::parse("iam:*").unwrap();
        assert_eq!(granted_by(&iam).collect::<Vec<_>>(), ["iam:PassRole"]);
        let logs = ActionPattern::parse("logs:Get*").unwrap();
        assert_eq!(
            granted_by(&logs).collect::<Vec<_>>(),
            ["logs:GetLogDelivery"]
        );
        let all = ActionPattern::parse("*").unwrap();
        assert_eq!(granted_by(&all).count(), PERMISSION_ONLY.len());
    }
}
