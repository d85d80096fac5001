//! What a run scans: the Organization's accounts and units it selects, and the
//! discovery filters within each account.

use crate::domain::access_report;
use crate::domain::arn::is_account_id;
use crate::domain::input::options::{
    AccountSelection, Discovery, Organization, OrganizationOptions,
};
use crate::domain::input::validate::{check_range, within_ceiling, InputDefaults};
use crate::domain::input::InputError;
use std::collections::BTreeSet;

/// Accounts scanned side by side at most: each holds an open Map Run (its batches Map),
/// and Step Functions allows 1,000 open Map Runs per account and Region, for every state
/// machine of the account together (a hard quota); 400 leaves the rest to other work and
/// to a second run overlapping this one.
pub const MAX_ACCOUNTS_IN_PARALLEL: u32 = 400;

/// A 12-digit account id, or why not.
pub fn check_account_id(field: &str, id: &str) -> Result<(), InputError> {
    if is_account_id(id) {
        Ok(())
    } else {
        Err(InputError::invalid(
            field,
            format!("{id:?} is not an AWS account id (12 digits)"),
        ))
    }
}

/// An OU id (`ou-` root id part, then 8-32 characters) or a root id (`r-…`), as
/// Organizations' API model patterns them.
fn is_unit_id(id: &str) -> bool {
    let lower = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = id.strip_prefix("ou-") {
        return match rest.split_once('-') {
            Some((root, ou)) => {
                (4..=32).contains(&root.len())
                    && (8..=32).contains(&ou.len())
                    && lower(root)
                    && lower(ou)
            }
            None => false,
        };
    }
    id.strip_prefix("r-")
        .is_some_and(|root| (4..=32).contains(&root.len()) && lower(root))
}

/// `organization.member_role`: an IAM role name, and the stack's own.
fn check_member_role(
    given: Option<String>,
    defaults: &InputDefaults,
) -> Result<String, InputError> {
    let member_role = given.unwrap_or_else(|| defaults.member_role.clone());
    let role_ok = (1..=64).contains(&member_role.len())
        && member_role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if !role_ok {
        return Err(InputError::invalid(
            "organization.member_role",
            format!("{member_role:?} is not an IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-)"),
        ));
    }
    if member_role != defaults.member_role {
        // The stack may assume only its MemberRoleName: another name would make every
        // account UNREACHABLE with an AccessDenied that looks like a member's problem.
        return Err(InputError::invalid(
            "organization.member_role",
            format!(
                "{member_role:?}: this stack may assume only its MemberRoleName {:?}; deploy it with MemberRoleName={member_role} to use that role",
                defaults.member_role
            ),
        ));
    }
    Ok(member_role)
}

pub(super) fn check_organization(
    o: OrganizationOptions,
    defaults: &InputDefaults,
) -> Result<Organization, InputError> {
    let chosen = [!o.accounts.is_empty(), o.all, !o.units.is_empty()]
        .iter()
        .filter(|c| **c)
        .count();
    if chosen != 1 {
        return Err(InputError::invalid(
            "organization",
            "give exactly one of accounts (ids), all (true) or units (OU ids)",
        ));
    }
    let unique = |field: &str, ids: &[String]| -> Result<(), InputError> {
        let set: BTreeSet<&String> = ids.iter().collect();
        if set.len() == ids.len() {
            Ok(())
        } else {
            Err(InputError::invalid(field, "lists an id twice"))
        }
    };
    for (i, id) in o.accounts.iter().enumerate() {
        check_account_id(&format!("organization.accounts[{i}]"), id)?;
    }
    for (i, id) in o.exclude.iter().enumerate() {
        check_account_id(&format!("organization.exclude[{i}]"), id)?;
    }
    for (i, id) in o.units.iter().enumerate() {
        if !is_unit_id(id) {
            return Err(InputError::invalid(
                &format!("organization.units[{i}]"),
                format!("{id:?} is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"),
            ));
        }
    }
    unique("organization.accounts", &o.accounts)?;
    unique("organization.units", &o.units)?;
    let member_role = check_member_role(o.member_role, defaults)?;
    let max_accounts_in_parallel = check_range(
        "organization.max_accounts_in_parallel",
        o.max_accounts_in_parallel
            .unwrap_or(defaults.max_accounts_in_parallel),
        1,
        MAX_ACCOUNTS_IN_PARALLEL,
    )?;
    let max_accounts_in_parallel = within_ceiling(
        "organization.max_accounts_in_parallel",
        max_accounts_in_parallel,
        "MaxAccountsInParallel",
        defaults.max_accounts_in_parallel,
    )?;
    let selection = if o.all {
        AccountSelection::All
    } else if !o.units.is_empty() {
        AccountSelection::Units(o.units)
    } else {
        AccountSelection::Accounts(o.accounts)
    };
    let (low, high) = access_report::TIMEOUT_SECONDS_RANGE;
    let access_report_timeout_seconds = check_range(
        "organization.access_report_timeout_seconds",
        o.access_report_timeout_seconds
            .unwrap_or(access_report::DEFAULT_TIMEOUT_SECONDS),
        low,
        high,
    )?;
    Ok(Organization {
        selection,
        exclude: o.exclude,
        member_role,
        max_accounts_in_parallel,
        access_report: o.access_report,
        access_report_timeout_seconds,
    })
}

pub(super) fn check_discovery(d: Discovery) -> Result<Discovery, InputError> {
    if d.types.is_empty() {
        return Err(InputError::invalid(
            "discover.types",
            "must name at least one of user, role, group, policy",
        ));
    }
    let unique: BTreeSet<_> = d.types.iter().collect();
    if unique.len() != d.types.len() {
        return Err(InputError::invalid("discover.types", "lists a type twice"));
    }
    let p = &d.path_prefix;
    if !p.starts_with('/') || p.len() > 512 || !p.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(InputError::invalid(
            "discover.path_prefix",
            format!("{p:?} must start with / and hold printable ASCII"),
        ));
    }
    if let Some(pattern) = &d.name_pattern {
        if pattern.is_empty() || pattern.len() > 128 {
            return Err(InputError::invalid(
                "discover.name_pattern",
                "must hold 1 to 128 characters",
            ));
        }
    }
    if d.tags.len() > 50 {
        return Err(InputError::invalid("discover.tags", "at most 50 tags"));
    }
    for key in d.tags.keys() {
        if key.is_empty() || key.len() > 128 {
            return Err(InputError::invalid(
                "discover.tags",
                format!("tag key {key:?} must hold 1 to 128 characters"),
            ));
        }
    }
    Ok(d)
}
