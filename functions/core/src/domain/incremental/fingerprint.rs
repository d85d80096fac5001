//! A principal's permissions as access advisor reads them, in 16 hex digits: the
//! services it reports are those its policies grant (GenerateServiceLastAccessedDetails:
//! "the services that the entity's policies allow"), so the same policies mean the same
//! services. What goes in, by type:
//! - a user or role: its attached managed policies (ARN and default document), inline
//!   policies (name and document), permissions boundary; a user also its groups, each
//!   with the group's own policies;
//! - a group: its policies, and its members;
//! - a managed policy: its default document, and every entity it is attached to.
//!
//! A document is compared whole (a new default version is a new document). A managed
//! policy GetAccountAuthorizationDetails did not return (an AWS-managed one it leaves
//! out) counts by ARN only: AWS revising it is not seen, as a `*` grant picking up a new
//! service is not; `full_refresh_days` bounds both.

use crate::domain::recommend::{Holdings, ManagedPolicy};
use std::collections::{BTreeMap, BTreeSet};

/// FNV-1a (64 bits) of `text`, as 16 hex digits.
pub fn hash(text: &str) -> String {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{h:016x}")
}

fn kind(arn: &str) -> &'static str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    match resource.split('/').next().unwrap_or_default() {
        "user" => "user",
        "role" => "role",
        "group" => "group",
        "policy" => "policy",
        _ => "other",
    }
}

/// The name of an ARN: its last path segment.
fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// What a holder's own policies say, canonical: attached (ARN = document hash, `?`
/// unknown), inline (name = document hash), boundary.
fn policies_of(h: &Holdings, policies: &BTreeMap<String, ManagedPolicy>) -> String {
    let attached: BTreeSet<String> = h
        .attached
        .iter()
        .map(|arn| {
            let doc = policies.get(arn).map_or("?".into(), |p| hash(&p.document));
            format!("{arn}={doc}")
        })
        .collect();
    let inline: BTreeSet<String> = h
        .inline
        .iter()
        .map(|p| format!("{}={}", p.name, hash(&p.document)))
        .collect();
    let boundary = h.boundary.as_deref().unwrap_or("-");
    format!("a{attached:?}i{inline:?}b{boundary}")
}

/// Every principal's fingerprint, by ARN, out of its account's holdings (users, roles,
/// groups and managed policies alike, as GetAccountAuthorizationDetails gave them).
pub fn fingerprints(
    principals: &BTreeMap<String, Holdings>,
    policies: &BTreeMap<String, ManagedPolicy>,
) -> BTreeMap<String, String> {
    let groups: BTreeMap<&str, &Holdings> = principals
        .iter()
        .filter(|(arn, _)| kind(arn) == "group")
        .map(|(arn, h)| (name_of(arn), h))
        .collect();
    let mut members: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut attachments: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (arn, h) in principals {
        for g in &h.groups {
            members.entry(g.as_str()).or_default().insert(arn);
        }
        for p in &h.attached {
            attachments.entry(p.as_str()).or_default().insert(arn);
        }
    }
    let none = BTreeSet::new();
    principals
        .iter()
        .map(|(arn, h)| {
            let canonical = match kind(arn) {
                "user" => {
                    let of_groups: BTreeSet<String> = h
                        .groups
                        .iter()
                        .map(|g| {
                            let theirs = groups.get(g.as_str()).map(|gh| policies_of(gh, policies));
                            format!("{g}:{}", theirs.as_deref().unwrap_or("?"))
                        })
                        .collect();
                    format!("user|{}|g{of_groups:?}", policies_of(h, policies))
                }
                "group" => {
                    let of = members.get(name_of(arn)).unwrap_or(&none);
                    format!("group|{}|m{of:?}", policies_of(h, policies))
                }
                "policy" => {
                    let doc = policies.get(arn).map_or("?".into(), |p| hash(&p.document));
                    let of = attachments.get(arn.as_str()).unwrap_or(&none);
                    format!("policy|{doc}|e{of:?}")
                }
                other => format!("{other}|{}", policies_of(h, policies)),
            };
            (arn.clone(), hash(&canonical))
        })
        .collect()
}
