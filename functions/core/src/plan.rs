//! Choosing the principals of a run and cutting them into batches: pure code.

use crate::arn::PrincipalArn;
use crate::input::{glob_match, Discovery};
use crate::model::Batch;
use std::collections::{BTreeMap, BTreeSet};

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

/// Explicit ARNs first (in their order), then discovered ones, each once.
pub fn merge(explicit: &[PrincipalArn], discovered: Vec<PrincipalArn>) -> Vec<PrincipalArn> {
    let mut seen = BTreeSet::new();
    explicit
        .iter()
        .cloned()
        .chain(discovered)
        .filter(|a| seen.insert(a.identity()))
        .collect()
}

/// Cuts principals into batches of at most `size`, numbered from 0.
pub fn batches(principals: Vec<PrincipalArn>, size: u32) -> Vec<Batch> {
    let size = size.max(1) as usize;
    principals
        .chunks(size)
        .enumerate()
        .map(|(i, chunk)| Batch {
            index: i as u32,
            arns: chunk.to_vec(),
        })
        .collect()
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
    fn merge_dedupes_keeping_order_and_batches_cover_everything() {
        let explicit = vec![
            arn("arn:aws:iam::123456789012:role/b"),
            arn("arn:aws:iam::123456789012:role/a"),
        ];
        let discovered = (0..5)
            .map(|i| {
                arn(&format!(
                    "arn:aws:iam::123456789012:role/{}",
                    ["a", "c", "d", "b", "e"][i]
                ))
            })
            .collect();
        let merged = merge(&explicit, discovered);
        let names: Vec<&str> = merged.iter().map(|a| a.name()).collect();
        assert_eq!(names, ["b", "a", "c", "d", "e"]);
        let b = batches(merged, 2);
        assert_eq!(
            b.iter().map(|b| b.arns.len()).collect::<Vec<_>>(),
            [2, 2, 1]
        );
        assert_eq!(b.iter().map(|b| b.index).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(batches(Vec::new(), 50).is_empty());
    }
}
