//! The least-privilege rewrite of one policy document from an access-advisor report
//! (issue 12's rules, and issue 21's: a rewrite never drops what the report does not
//! show):
//!
//! - Statements stay in order; `Sid`, `Effect`, `Principal`, `Resource` and `Condition`
//!   are untouched; a statement left without actions is dropped; `Deny` statements never
//!   change.
//! - Only actions of services the report lists as not used within `unused_days` are
//!   removed. An explicit action of a used service is removed only at ACTION_LEVEL, when
//!   IAM tracks it and reports it unused.
//! - A statement granting every action (`*`, `*:*`) or every action but some (an Allow
//!   with `NotAction`) becomes a `NotAction` of what it excluded plus each listed service
//!   the principal did not use: `"*"` on a role that used s3 and logs, with ec2 listed
//!   and unused, becomes `"NotAction": ["ec2:*"]`. It still grants the used services
//!   whole and every service the report does not list, kept and named in
//!   [`Rewrite::kept_unseen`] as [`UnseenReason::NotReported`]: access advisor's list
//!   can lag services AWS launched since, and a report can be incomplete. The
//!   permission-only actions of the services it now excludes are kept in a statement of
//!   their own (same Resource and Condition). [`Rewrite::narrowed`] names, per statement,
//!   the listed services and actions it still grants.
//! - A wildcard over some services (`*:Get*`) can't be narrowed without dropping what it
//!   grants in services the report does not list, nor turned into a `NotAction` without
//!   granting more: it is kept as it is, named `not_reported`
//!   ([`Rewrite::not_narrowed`] names its statement).
//! - A wildcard within one service (`s3:*`, `s3:Get*`) stays as it is while its service
//!   is used: IAM tracks management actions only, so narrowing it to tracked actions
//!   would drop data actions such as `s3:GetObject`.
//! - What access advisor can't see is kept and named in [`Rewrite::kept_unseen`]:
//!   permission-only actions ([`super::permission_only`]), services the report does not
//!   list (no tracking data) and, as above, what a wildcard grants beyond the report.

use crate::domain::policy::actions::{service_of, ActionPattern};
use crate::domain::policy::document::{Effect, OneOrMany, PolicyDocument, Statement};
use crate::domain::policy::permission_only::{self, PERMISSION_ONLY};
use serde::{Deserialize, Serialize};

/// What the principal's access-advisor report says, judged against `unused_days`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdvisorView {
    /// Every service the report lists, in its order.
    pub services: Vec<ServiceUse>,
}

/// One service of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceUse {
    pub namespace: String,
    /// Used within `unused_days`.
    pub used: bool,
    /// ACTION_LEVEL: the actions IAM tracks for the service (names without the prefix)
    /// and whether each was used within `unused_days`. `None`: not tracked, or
    /// SERVICE_LEVEL.
    pub tracked_actions: Option<Vec<(String, bool)>>,
}

impl AdvisorView {
    pub fn service(&self, namespace: &str) -> Option<&ServiceUse> {
        self.services
            .iter()
            .find(|s| s.namespace.eq_ignore_ascii_case(namespace))
    }
}

impl ServiceUse {
    /// Whether IAM tracks `name` for this service and reports it not used.
    fn tracked_unused(&self, name: &str) -> bool {
        self.tracked_actions
            .iter()
            .flatten()
            .any(|(n, used)| !used && n.eq_ignore_ascii_case(name))
    }
}

/// Why an action or pattern was kept though the report does not show it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnseenReason {
    /// A permission-only action: access advisor never records it.
    PermissionOnly,
    /// The report does not list the service: IAM has no tracking data for it.
    NoTrackingData,
    /// What a wildcard over services or a `NotAction` grants in services the report does
    /// not list (`action` is the pattern, or `NotAction`): kept, as access advisor's list
    /// can lag services AWS launched since, and a report can be incomplete.
    NotReported,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unseen {
    pub action: String,
    pub reason: UnseenReason,
}

/// A statement granting every action (`*`) or every action but some (`NotAction`),
/// rewritten: `to` names what it still grants whole of the services the report lists
/// (`s3:*`: a used service none of its exclusions touches) and the permission-only
/// actions kept; it also grants what it granted of the used services it excluded part
/// of, and every service the report does not list (`not_reported`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrowing {
    /// The statement's index in the original document.
    pub statement: usize,
    /// The pattern, or `NotAction`.
    pub from: String,
    pub to: Vec<String>,
}

/// The recommended document and what it changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rewrite {
    /// `None`: no statement would remain; the caller recommends detaching (or deleting)
    /// the policy instead.
    pub document: Option<PolicyDocument>,
    /// Whether the document differs from the original.
    pub changed: bool,
    /// Services no longer granted because they were not used within `unused_days`.
    pub removed_services: Vec<String>,
    /// ACTION_LEVEL: explicit actions of used services removed because IAM reports them
    /// unused.
    pub removed_actions: Vec<String>,
    pub kept_unseen: Vec<Unseen>,
    pub narrowed: Vec<Narrowing>,
    /// Indexes of statements kept with a wildcard over some services (`*:Get*`): see
    /// the module doc.
    pub not_narrowed: Vec<usize>,
}

/// Rewrites `document` from `view`. See the module doc for the rules.
pub fn rewrite(document: &PolicyDocument, view: &AdvisorView) -> Rewrite {
    let mut out = Rewrite {
        document: None,
        changed: false,
        removed_services: Vec::new(),
        removed_actions: Vec::new(),
        kept_unseen: Vec::new(),
        narrowed: Vec::new(),
        not_narrowed: Vec::new(),
    };
    let mut statements = Vec::new();
    for (i, s) in document.statements().iter().enumerate() {
        let kept = match (s.effect, &s.action, &s.not_action) {
            (Effect::Deny, _, _) => vec![s.clone()],
            (Effect::Allow, Some(actions), _) => rewrite_action(i, s, actions, view, &mut out),
            (Effect::Allow, None, Some(not)) => rewrite_not_action(i, s, not, view, &mut out),
            (Effect::Allow, None, None) => vec![s.clone()],
        };
        statements.extend(kept);
    }
    out.document = (!statements.is_empty()).then(|| PolicyDocument {
        version: document.version.clone(),
        id: document.id.clone(),
        statement: document.statement.reshaped(statements),
    });
    out.changed = out.document.as_ref() != Some(document);
    out
}

impl Rewrite {
    fn removed_service(&mut self, namespace: &str) {
        push_unique(&mut self.removed_services, namespace);
    }

    fn unseen(&mut self, action: &str, reason: UnseenReason) {
        let known = self
            .kept_unseen
            .iter()
            .any(|u| u.reason == reason && u.action.eq_ignore_ascii_case(action));
        if !known {
            self.kept_unseen.push(Unseen {
                action: action.to_string(),
                reason,
            });
        }
    }
}

fn rewrite_action(
    index: usize,
    statement: &Statement,
    actions: &OneOrMany<String>,
    view: &AdvisorView,
    out: &mut Rewrite,
) -> Vec<Statement> {
    let everything = actions
        .iter()
        .find(|raw| ActionPattern::parse(raw).is_ok_and(|p| p.grants_everything()));
    if let Some(raw) = everything {
        return except_unused(index, statement, raw, &[], view, out);
    }
    let mut kept: Vec<String> = Vec::new();
    for raw in actions.iter() {
        let Ok(pattern) = ActionPattern::parse(raw) else {
            // Not IAM's grammar (validate refuses it): not ours to judge.
            push_unique(&mut kept, raw);
            continue;
        };
        match pattern.service() {
            Some(namespace) => one_service(raw, &pattern, namespace, view, &mut kept, out),
            None => {
                // Over some services (`*:Get*`): kept whole (module doc).
                out.unseen(raw, UnseenReason::NotReported);
                if !out.not_narrowed.contains(&index) {
                    out.not_narrowed.push(index);
                }
                push_unique(&mut kept, raw);
            }
        }
    }
    if kept.is_empty() {
        return Vec::new();
    }
    vec![Statement {
        action: Some(actions.reshaped(kept)),
        ..statement.clone()
    }]
}

/// A pattern within one service (`s3:GetObject`, `s3:Get*`, `s3:*`).
fn one_service(
    raw: &str,
    pattern: &ActionPattern,
    namespace: &str,
    view: &AdvisorView,
    kept: &mut Vec<String>,
    out: &mut Rewrite,
) {
    let Some(service) = view.service(namespace) else {
        out.unseen(raw, UnseenReason::NoTrackingData);
        return push_unique(kept, raw);
    };
    let exact = !pattern.has_wildcard();
    if service.used {
        if exact
            && service.tracked_unused(pattern.name())
            && !permission_only::is_permission_only(raw)
        {
            push_unique(&mut out.removed_actions, raw);
        } else {
            push_unique(kept, raw);
        }
    } else if exact && permission_only::is_permission_only(raw) {
        out.unseen(raw, UnseenReason::PermissionOnly);
        push_unique(kept, raw);
    } else {
        out.removed_service(&service.namespace);
        for action in permission_only::granted_by(pattern) {
            out.unseen(action, UnseenReason::PermissionOnly);
            push_unique(kept, action);
        }
    }
}

fn rewrite_not_action(
    index: usize,
    statement: &Statement,
    not_actions: &OneOrMany<String>,
    view: &AdvisorView,
    out: &mut Rewrite,
) -> Vec<Statement> {
    let Ok(excluded) = not_actions
        .iter()
        .map(|a| ActionPattern::parse(a))
        .collect::<Result<Vec<_>, _>>()
    else {
        return vec![statement.clone()];
    };
    except_unused(index, statement, "NotAction", &excluded, view, out)
}

/// A statement granting every action but `excluded` (none for `*`): a `NotAction` of
/// `excluded` plus each listed service the principal did not use, and the
/// permission-only actions of those services in a statement of their own. Unchanged
/// when no listed service is left to take away.
fn except_unused(
    index: usize,
    statement: &Statement,
    from: &str,
    excluded: &[ActionPattern],
    view: &AdvisorView,
    out: &mut Rewrite,
) -> Vec<Statement> {
    let mut still = Vec::new();
    let mut unused: Vec<&str> = Vec::new();
    for service in &view.services {
        let ns = service.namespace.as_str();
        let covering = excluded.iter().filter(|x| x.covers_service(ns));
        let (whole, part) = covering.fold((false, false), |(w, p), x| {
            (w || x.is_service_wide(), p || !x.is_service_wide())
        });
        match (whole, service.used) {
            (true, _) => {}
            // Granted whole unless part of it was excluded: `to` names the whole ones.
            (false, true) if !part => still.push(format!("{ns}:*")),
            (false, true) => {}
            (false, false) => unused.push(ns),
        }
    }
    if unused.is_empty() {
        return vec![statement.clone()];
    }
    let mut not_actions: Vec<String> = excluded.iter().map(|x| x.as_str().to_string()).collect();
    for ns in &unused {
        out.removed_service(ns);
        push_unique(&mut not_actions, &format!("{ns}:*"));
    }
    let keep: Vec<String> = PERMISSION_ONLY
        .iter()
        .filter(|a| !excluded.iter().any(|x| x.matches(a)))
        .filter(|a| {
            service_of(a).is_some_and(|ns| unused.iter().any(|u| u.eq_ignore_ascii_case(ns)))
        })
        .map(|a| a.to_string())
        .collect();
    keep.iter()
        .for_each(|a| out.unseen(a, UnseenReason::PermissionOnly));
    out.unseen(from, UnseenReason::NotReported);
    out.narrowed.push(Narrowing {
        statement: index,
        from: from.to_string(),
        to: still.into_iter().chain(keep.iter().cloned()).collect(),
    });
    let mut statements = vec![Statement {
        action: None,
        not_action: Some(OneOrMany::Many(not_actions)),
        ..statement.clone()
    }];
    if !keep.is_empty() {
        statements.push(Statement {
            sid: None,
            action: Some(OneOrMany::Many(keep)),
            not_action: None,
            ..statement.clone()
        });
    }
    statements
}

/// Pushes `item` unless an equal one (as IAM compares: ignoring case) is there.
fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x.eq_ignore_ascii_case(item)) {
        list.push(item.to_string());
    }
}
