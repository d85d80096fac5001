//! Arbitrary data never panics the input parsing, event decoding or report building;
//! and the schedule's default input (from the SAM template) is a valid run input.

use last_accessed::domain::arn::PrincipalArn;
use last_accessed::domain::batch::BatchState;
use last_accessed::domain::input::{Granularity, InputDefaults, ReportOptions, RunInput};
use last_accessed::domain::job::JobStatus;
use last_accessed::domain::report::{
    build_report, ActionAccess, JobDetails, ReportContext, ServiceAccess,
};
use last_accessed::handlers::decode;
use proptest::prelude::*;
use serde_json::Value;

fn defaults() -> InputDefaults {
    InputDefaults {
        batch_size: 50,
        max_concurrency: 2,
        iam_requests_per_second: 5.0,
        partition: "aws".into(),
        account: Some("123456789012".into()),
        member_role: "iam-last-accessed-member".into(),
        max_accounts_in_parallel: 5,
        reserved_concurrency: 0,
        security_hub_findings: false,
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        ".{0,40}".prop_map(Value::String),
        "arn:aws:iam::[0-9]{12}:(role|user|group|policy)/[a-z/]{0,10}[a-z]{1,8}"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("arns".to_string()),
                    Just("discover".to_string()),
                    Just("granularity".to_string()),
                    Just("batch_size".to_string()),
                    Just("poll".to_string()),
                    Just("report".to_string()),
                    Just("types".to_string()),
                    Just("max_attempts".to_string()),
                    Just("unused_days".to_string()),
                    ".{0,12}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn maybe_time() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        ".{0,25}".prop_map(Some),
        (0i64..4_000_000_000).prop_map(|s| Some(
            time::OffsetDateTime::from_unix_timestamp(s)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        ))
    ]
}

fn service() -> impl Strategy<Value = ServiceAccess> {
    (
        ".{0,20}",
        ".{0,12}",
        maybe_time(),
        proptest::option::of(".{0,30}"),
        proptest::option::of(any::<i32>()),
        proptest::option::of(prop::collection::vec(
            (proptest::option::of(".{0,12}"), maybe_time()),
            0..4,
        )),
    )
        .prop_map(
            |(name, namespace, last, entity, total, actions)| ServiceAccess {
                name,
                namespace,
                last_authenticated: last,
                last_authenticated_entity: entity.clone(),
                last_authenticated_region: entity,
                total_authenticated_entities: total,
                tracked_actions: actions.map(|a| {
                    a.into_iter()
                        .map(|(n, t)| ActionAccess {
                            action_name: n,
                            last_accessed_time: t,
                            last_accessed_entity: None,
                            last_accessed_region: None,
                        })
                        .collect()
                }),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn run_input_parsing_never_panics(input in json_value()) {
        match RunInput::parse(&input, &defaults()) {
            Ok(run) => prop_assert!(run.batch_size >= 1 && run.arns.len() <= last_accessed::domain::input::MAX_ARNS),
            Err(e) => prop_assert_eq!(last_accessed::Error::from(e).name(), "InvalidInput"),
        }
    }

    #[test]
    fn arn_parsing_never_panics(text in ".{0,120}") {
        let _ = PrincipalArn::parse(&text);
    }

    #[test]
    fn event_decoding_never_panics(event in json_value()) {
        if let Err(e) = decode::<BatchState>("event", event) {
            prop_assert_eq!(e.name(), "InvalidInput");
        }
    }

    #[test]
    fn report_building_never_panics(services in prop::collection::vec(service(), 0..20), days in 1u32..=400, action_level in any::<bool>(), now in 0i64..4_000_000_000) {
        let arn = PrincipalArn::parse("arn:aws:iam::123456789012:role/app").unwrap();
        let options = ReportOptions { unused_days: days, ..ReportOptions::default() };
        let granularity = if action_level { Granularity::ActionLevel } else { Granularity::ServiceLevel };
        let ctx = ReportContext { arn: &arn, principal_id: None, run_id: "r", granularity, options: &options, as_of: time::OffsetDateTime::from_unix_timestamp(now).unwrap(), written_at: time::OffsetDateTime::now_utc(), previous: None };
        let count = services.len() as u32;
        let report = build_report(&ctx, Some("j"), JobStatus::Completed, JobDetails { services, ..JobDetails::default() });
        let f = &report.findings;
        prop_assert_eq!(f.services_granted, count);
        prop_assert_eq!(f.services_active + f.services_stale + f.services_never_used, count, "three disjoint classes");
        let text = serde_json::to_string(&report).unwrap();
        prop_assert!(!text.contains('\n'));
    }
}

/// The schedule starts runs with the template's DefaultRunInput: it must pass validation.
#[test]
fn the_templates_schedule_input_is_a_valid_run_input() {
    let template = include_str!("../../../infra/template.yaml");
    let block = template
        .split("\n  DefaultRunInput:\n")
        .nth(1)
        .expect("DefaultRunInput parameter in infra/template.yaml");
    let line = block
        .lines()
        .find(|l| l.trim_start().starts_with("Default:"))
        .expect("DefaultRunInput has a Default");
    let quoted = line.trim_start().trim_start_matches("Default:").trim();
    let json = quoted
        .strip_prefix('\'')
        .and_then(|q| q.strip_suffix('\''))
        .expect("a single-quoted YAML scalar")
        .replace("''", "'");
    let input: Value = serde_json::from_str(&json).expect("DefaultRunInput is JSON");
    let run = RunInput::parse(&input, &defaults()).expect("DefaultRunInput is a valid run input");
    assert!(
        run.discover.is_some(),
        "the schedule scans the whole account"
    );
}
