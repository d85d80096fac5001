//! The least-privilege rewrite of one policy document from an access-advisor report
//! (issue 12's rules):
//!
//! - Statements stay in order; `Sid`, `Effect`, `Principal`, `Resource` and `Condition`
//!   are untouched; a statement left without actions is dropped; `Deny` statements never
//!   change.
//! - Only actions of services the report lists as not used within `unused_days` are
//!   removed. An explicit action of a used service is removed only at ACTION_LEVEL, when
//!   IAM tracks it and reports it unused.
//! - A wildcard over services (`*`, `*:Get*`) and an Allow with `NotAction` are narrowed
//!   to the services the report lists and the principal used: `"*"` on a role that used
//!   s3 and logs becomes `["s3:*", "logs:*"]`. A wildcard within one service (`s3:*`,
//!   `s3:Get*`) stays as it is while its service is used: IAM tracks management actions
//!   only, so narrowing it to tracked actions would drop data actions such as
//!   `s3:GetObject`.
//! - What access advisor can't see is kept and named in [`Rewrite::kept_unseen`]:
//!   permission-only actions ([`super::permission_only`]) and services the report does
//!   not list (no tracking data). A narrowed wildcard keeps the permission-only actions it
//!   granted; the services it granted that IAM does not track are no longer granted by
//!   it, as the rule narrows to listed services ([`Rewrite::narrowed`] shows each).
//! - A `NotAction` that excludes part of a used service (`"NotAction": "iam:Delete*"` on
//!   a role that used iam) can't be narrowed to services without granting what it
//!   excluded, so its statement is left as it is ([`Rewrite::not_narrowed`]).

use crate::domain::policy::actions::{service_of, ActionPattern};
use crate::domain::policy::document::{Effect, OneOrMany, PolicyDocument, Statement};
use crate::domain::policy::permission_only;
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

    fn is_used(&self, namespace: &str) -> bool {
        self.service(namespace).is_some_and(|s| s.used)
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unseen {
    pub action: String,
    pub reason: UnseenReason,
}

/// A wildcard or `NotAction` replaced by the used services it covered.
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
    /// Indexes of `NotAction` statements left as they were (see the module doc).
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
            (Effect::Deny, _, _) => Some(s.clone()),
            (Effect::Allow, Some(actions), _) => rewrite_action(i, s, actions, view, &mut out),
            (Effect::Allow, None, Some(not)) => rewrite_not_action(i, s, not, view, &mut out),
            (Effect::Allow, None, None) => Some(s.clone()),
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
) -> Option<Statement> {
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
                let to = narrow(&pattern, view, out);
                out.narrowed.push(Narrowing {
                    statement: index,
                    from: raw.clone(),
                    to: to.clone(),
                });
                to.iter().for_each(|a| push_unique(&mut kept, a));
            }
        }
    }
    (!kept.is_empty()).then(|| Statement {
        action: Some(actions.reshaped(kept)),
        ..statement.clone()
    })
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

/// A pattern over services (`*`, `*:Get*`): the used services it covers, plus the
/// permission-only actions it granted in services not used.
fn narrow(pattern: &ActionPattern, view: &AdvisorView, out: &mut Rewrite) -> Vec<String> {
    let mut to = Vec::new();
    for service in &view.services {
        match pattern.within(&service.namespace) {
            Some(within) if service.used => to.push(within.as_str().to_string()),
            Some(_) => out.removed_service(&service.namespace),
            None => {}
        }
    }
    for action in permission_only::granted_by(pattern) {
        if !service_of(action).is_some_and(|ns| view.is_used(ns)) {
            out.unseen(action, UnseenReason::PermissionOnly);
            to.push(action.to_string());
        }
    }
    to
}

/// How much of one service a `NotAction` list excludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Exclusion {
    Part,
    All,
}

fn rewrite_not_action(
    index: usize,
    statement: &Statement,
    not_actions: &OneOrMany<String>,
    view: &AdvisorView,
    out: &mut Rewrite,
) -> Option<Statement> {
    let Ok(excluded) = not_actions
        .iter()
        .map(|a| ActionPattern::parse(a))
        .collect::<Result<Vec<_>, _>>()
    else {
        return Some(statement.clone());
    };
    let mut to = Vec::new();
    let mut removed = Vec::new();
    for service in &view.services {
        let ns = &service.namespace;
        let exclusion = excluded
            .iter()
            .filter(|x| x.covers_service(ns))
            .map(|x| {
                if x.is_service_wide() {
                    Exclusion::All
                } else {
                    Exclusion::Part
                }
            })
            .max();
        match (exclusion, service.used) {
            (Some(Exclusion::All), _) => {}
            (Some(Exclusion::Part), true) => {
                out.not_narrowed.push(index);
                return Some(statement.clone());
            }
            (_, true) => to.push(format!("{ns}:*")),
            (_, false) => removed.push(ns.clone()),
        }
    }
    removed.iter().for_each(|ns| out.removed_service(ns));
    for action in permission_only::PERMISSION_ONLY {
        let granted = !excluded.iter().any(|x| x.matches(action));
        if granted && !service_of(action).is_some_and(|ns| view.is_used(ns)) {
            out.unseen(action, UnseenReason::PermissionOnly);
            to.push(action.to_string());
        }
    }
    out.narrowed.push(Narrowing {
        statement: index,
        from: "NotAction".into(),
        to: to.clone(),
    });
    (!to.is_empty()).then(|| Statement {
        action: Some(not_actions.reshaped(to)),
        not_action: None,
        ..statement.clone()
    })
}

/// Pushes `item` unless an equal one (as IAM compares: ignoring case) is there.
fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x.eq_ignore_ascii_case(item)) {
        list.push(item.to_string());
    }
}
