//! The rewrite's promises over arbitrary documents and reports: a rewritten document
//! never grants an action the original did not, never drops one of a service the
//! principal used (save an unused tracked action it listed by name), keeps what access
//! advisor can't see (a service the report does not list keeps everything that granted
//! it), grants no unused service but for a stated reason, leaves Deny
//! statements alone, and reads back as itself.

use last_accessed::domain::policy::permission_only::{is_permission_only, PERMISSION_ONLY};
use last_accessed::domain::policy::{
    ready, rewrite, ActionPattern, AdvisorView, Effect, OneOrMany, PolicyDocument, PolicyLimit,
    ServiceUse, Statement,
};
use proptest::prelude::*;

/// Services a report may list; `newsvc` never is (no tracking data).
const LISTABLE: [&str; 5] = ["s3", "ec2", "iam", "logs", "kms"];
const SERVICES: [&str; 6] = ["s3", "ec2", "iam", "logs", "kms", "newsvc"];
const NAMES: [&str; 8] = [
    "GetObject",
    "PutObject",
    "ListBuckets",
    "DescribeInstances",
    "PassRole",
    "CreateRole",
    "GetLogDelivery",
    "CreateBucket",
];

fn pattern() -> impl Strategy<Value = String> {
    let service = prop::sample::select(SERVICES.to_vec());
    let name = prop::sample::select(NAMES.to_vec());
    let prefix = prop::sample::select(vec![
        "Get*",
        "List*",
        "Describe*",
        "Create*",
        "*Role",
        "P?tObject",
    ]);
    prop_oneof![
        1 => Just("*".to_string()),
        1 => prop::sample::select(vec!["*:Get*", "*:*Role"]).prop_map(String::from),
        3 => service.clone().prop_map(|s| format!("{s}:*")),
        3 => (service.clone(), prefix).prop_map(|(s, p)| format!("{s}:{p}")),
        // IAM compares without regard to case; so must the rewrite.
        5 => (service, name, any::<bool>()).prop_map(|(s, n, upper)| {
            let a = format!("{s}:{n}");
            if upper { a.to_uppercase() } else { a }
        }),
    ]
}

fn statement() -> impl Strategy<Value = Statement> {
    (
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.25),
        prop::collection::vec(pattern(), 1..4),
        prop::option::of("[A-Za-z0-9]{1,8}"),
    )
        .prop_map(|(allow, not, patterns, sid)| {
            let list = if patterns.len() == 1 {
                OneOrMany::One(patterns[0].clone())
            } else {
                OneOrMany::Many(patterns)
            };
            Statement {
                sid,
                effect: if allow { Effect::Allow } else { Effect::Deny },
                principal: None,
                not_principal: None,
                action: (!not).then(|| list.clone()),
                not_action: not.then_some(list),
                resource: Some(OneOrMany::One("*".into())),
                not_resource: None,
                condition: None,
            }
        })
}

fn document() -> impl Strategy<Value = PolicyDocument> {
    prop::collection::vec(statement(), 1..5).prop_map(|statements| PolicyDocument {
        version: Some("2012-10-17".into()),
        id: None,
        statement: OneOrMany::Many(statements),
    })
}

fn view() -> impl Strategy<Value = AdvisorView> {
    let tracked = prop::option::of(prop::collection::vec(
        (prop::sample::select(NAMES.to_vec()), any::<bool>()),
        0..4,
    ));
    prop::collection::vec((any::<bool>(), any::<bool>(), tracked), LISTABLE.len()).prop_map(
        |per_service| AdvisorView {
            services: LISTABLE
                .iter()
                .zip(per_service)
                .filter(|(_, (listed, _, _))| *listed)
                .map(|(ns, (_, used, tracked))| ServiceUse {
                    namespace: ns.to_string(),
                    used,
                    tracked_actions: tracked
                        .map(|t| t.into_iter().map(|(n, u)| (n.to_string(), u)).collect()),
                })
                .collect(),
        },
    )
}

/// Every concrete action the patterns can touch, and the permission-only ones.
fn universe() -> Vec<String> {
    SERVICES
        .iter()
        .flat_map(|s| NAMES.iter().map(move |n| format!("{s}:{n}")))
        .chain(PERMISSION_ONLY.iter().map(|a| a.to_string()))
        .collect()
}

fn matches_any(list: &OneOrMany<String>, action: &str) -> bool {
    list.iter()
        .any(|p| ActionPattern::parse(p).is_ok_and(|p| p.matches(action)))
}

/// Whether an Allow statement of `document` allows `action` (Resource is `*` throughout).
fn granted(document: Option<&PolicyDocument>, action: &str) -> bool {
    document.is_some_and(|d| {
        d.statements()
            .iter()
            .filter(|s| s.effect == Effect::Allow)
            .any(|s| match (&s.action, &s.not_action) {
                (Some(list), _) => matches_any(list, action),
                (None, Some(list)) => !matches_any(list, action),
                (None, None) => false,
            })
    })
}

fn tracked_unused(view: &AdvisorView, action: &str) -> bool {
    let (ns, name) = action.split_once(':').unwrap();
    view.service(ns).is_some_and(|s| {
        s.tracked_actions
            .iter()
            .flatten()
            .any(|(n, used)| !used && n.eq_ignore_ascii_case(name))
    })
}

fn denies(document: Option<&PolicyDocument>) -> Vec<Statement> {
    document
        .map(|d| {
            d.statements()
                .iter()
                .filter(|s| s.effect == Effect::Deny)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_grants_more(d in document(), v in view()) {
        let r = rewrite(&d, &v);
        for a in universe() {
            prop_assert!(!granted(r.document.as_ref(), &a) || granted(Some(&d), &a),
                "{a} granted by {:?}", r.document);
        }
    }

    #[test]
    fn never_drops_what_was_used_or_unseen(d in document(), v in view()) {
        let r = rewrite(&d, &v);
        for a in universe() {
            if !granted(Some(&d), &a) {
                continue;
            }
            let ns = a.split_once(':').unwrap().0;
            let used = v.service(ns).is_some_and(|s| s.used) && !tracked_unused(&v, &a);
            // A service the report does not list keeps whatever granted it, a wildcard
            // or a NotAction too: the report may lag AWS's services or be incomplete.
            let untracked = v.service(ns).is_none();
            if used || untracked || is_permission_only(&a) {
                prop_assert!(granted(r.document.as_ref(), &a),
                    "{a} dropped from {d:?}: {:?}", r.document);
            }
        }
    }

    #[test]
    fn no_unused_service_stays_granted_but_for_a_stated_reason(d in document(), v in view()) {
        let r = rewrite(&d, &v);
        for a in universe() {
            let ns = a.split_once(':').unwrap().0;
            let unused = v.service(ns).is_some_and(|s| !s.used);
            // The stated reasons: a permission-only action, or a wildcard over some services
            // kept as it was.
            if unused && !is_permission_only(&a) && r.not_narrowed.is_empty() {
                prop_assert!(!granted(r.document.as_ref(), &a),
                    "{a} still granted by {:?}", r.document);
            }
        }
    }

    #[test]
    fn deny_statements_stay_and_the_result_is_a_valid_document(d in document(), v in view()) {
        let r = rewrite(&d, &v);
        prop_assert_eq!(denies(r.document.as_ref()), denies(Some(&d)));
        prop_assert_eq!(r.changed, r.document.as_ref() != Some(&d));
        if let Some(new) = &r.document {
            let texts = ready(&[new], PolicyLimit::RoleInline);
            prop_assert!(texts.is_ok(), "{:?}", texts);
            prop_assert_eq!(&PolicyDocument::parse(&texts.unwrap()[0]).unwrap(), new);
        } else {
            prop_assert!(denies(Some(&d)).is_empty());
        }
    }
}
