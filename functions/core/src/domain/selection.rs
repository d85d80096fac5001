//! Which principals a run scans: discovery's filters (path, name glob, tags,
//! service-linked roles) applied to what IAM listed, and what discovery skipped. Pure code.

use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::input::{Discovery, EntityType, InputError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A principal as discovery listed it, before the filters.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub arn: PrincipalArn,
    /// Tags, when they were fetched (only if the discovery filters on tags).
    pub tags: Option<BTreeMap<String, String>>,
}

/// Service-linked roles are owned by AWS services; their policies cannot be cut.
pub fn is_service_linked_role(arn: &PrincipalArn) -> bool {
    arn.path().starts_with("/aws-service-role/")
}

/// Does a listed principal pass the discovery filters?
pub fn keep(candidate: &Candidate, filter: &Discovery) -> bool {
    let arn = &candidate.arn;
    if !arn.path().starts_with(&filter.path_prefix) {
        return false;
    }
    if filter.skip_service_linked_roles && is_service_linked_role(arn) {
        return false;
    }
    if let Some(pattern) = &filter.name_pattern {
        if !glob_match(pattern, arn.name()) {
            return false;
        }
    }
    if !filter.tags.is_empty() {
        let Some(tags) = &candidate.tags else {
            return false;
        };
        return filter.tags.iter().all(|(k, v)| tags.get(k) == Some(v));
    }
    true
}

/// A principal discovery left out: it vanished while being read, or IAM listed an ARN
/// this scan does not support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub arn: String,
    /// e.g. `vanished: NoSuchEntity: …` or `unsupported ARN: …`.
    pub reason: String,
}

/// `*` matches any run of characters, `?` exactly one; case-sensitive like IAM names.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// How the tags of one principal type are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagRead {
    /// One List*Tags call per candidate.
    Each,
    /// GetAccountAuthorizationDetails pages, every principal of the type at once.
    Bulk,
}

/// How a tag filter reads the tags of the candidates left after the other filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagPlan {
    pub users: TagRead,
    pub roles: TagRead,
    /// The per-principal calls it makes (customer-managed policies are always read so).
    pub calls: u64,
}

impl TagPlan {
    /// Users' and roles' tags from GetAccountAuthorizationDetails pages (of `page_size`)
    /// when that costs fewer IAM calls than one List*Tags call each (possible only for
    /// the `whole_account`, when the listing counted every user or role: `listed`),
    /// else one call each; policies always one call each. More than `max_calls`
    /// per-principal calls is an `InvalidInput` naming `discover.tags`, before any is
    /// made.
    pub fn of(
        candidates: &[Candidate],
        listed: &BTreeMap<EntityType, usize>,
        whole_account: bool,
        page_size: u64,
        max_calls: u64,
    ) -> Result<TagPlan, InputError> {
        let count =
            |kind: PrincipalType| candidates.iter().filter(|c| c.arn.kind() == kind).count();
        let (users, roles, policies) = (
            count(PrincipalType::User),
            count(PrincipalType::Role),
            count(PrincipalType::Policy),
        );
        let choose = |kind: EntityType, candidates: usize| {
            let total = listed.get(&kind).copied().unwrap_or_default() as u64;
            let pages = total.div_ceil(page_size).max(1);
            if whole_account && pages < candidates as u64 {
                TagRead::Bulk
            } else {
                TagRead::Each
            }
        };
        let (user_read, role_read) = (
            choose(EntityType::User, users),
            choose(EntityType::Role, roles),
        );
        let each = |read: TagRead, n: usize| if read == TagRead::Each { n as u64 } else { 0 };
        let calls = each(user_read, users) + each(role_read, roles) + policies as u64;
        if calls > max_calls {
            return Err(InputError::invalid(
                "discover.tags",
                format!(
                    "the tag filter needs {calls} IAM calls, one per principal ({} users, {} roles, {} policies), \
                     more than the {max_calls} this run has time for; narrow discover.path_prefix or \
                     discover.types, or raise iam_requests_per_second",
                    each(user_read, users),
                    each(role_read, roles),
                    policies
                ),
            ));
        }
        Ok(TagPlan {
            users: user_read,
            roles: role_read,
            calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(text: &str) -> PrincipalArn {
        PrincipalArn::parse(text).unwrap()
    }

    fn candidate(text: &str, tags: Option<&[(&str, &str)]>) -> Candidate {
        Candidate {
            arn: arn(text),
            tags: tags.map(|t| {
                t.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
        }
    }

    #[test]
    fn filters_by_path_name_tags_and_service_linked() {
        let all = Discovery::default();
        let slr = candidate("arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS", None);
        assert!(!keep(&slr, &all));
        assert!(keep(
            &slr,
            &Discovery {
                skip_service_linked_roles: false,
                ..Discovery::default()
            }
        ));
        let app = candidate(
            "arn:aws:iam::123456789012:role/apps/app-web",
            Some(&[("team", "web")]),
        );
        assert!(keep(
            &app,
            &Discovery {
                path_prefix: "/apps/".into(),
                ..Discovery::default()
            }
        ));
        assert!(!keep(
            &app,
            &Discovery {
                path_prefix: "/ops/".into(),
                ..Discovery::default()
            }
        ));
        assert!(keep(
            &app,
            &Discovery {
                name_pattern: Some("app-*".into()),
                ..Discovery::default()
            }
        ));
        assert!(!keep(
            &app,
            &Discovery {
                name_pattern: Some("db-*".into()),
                ..Discovery::default()
            }
        ));
        let tagged = |k: &str, v: &str| Discovery {
            tags: [(k.to_string(), v.to_string())].into(),
            ..Discovery::default()
        };
        assert!(keep(&app, &tagged("team", "web")));
        assert!(!keep(&app, &tagged("team", "db")));
        assert!(!keep(
            &candidate("arn:aws:iam::123456789012:role/x", None),
            &tagged("team", "web")
        ));
    }

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob_match("app-*", "app-web"));
        assert!(glob_match("*-prod", "db-prod"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("app-*", "web-app"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
    }
}
