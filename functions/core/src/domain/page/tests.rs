//! The run's page: its data embedded once and parseable back, no string able to close
//! the script, nothing loaded from elsewhere, an empty run rendered.

use super::packing::{push_digits, AGO_DIGITS, AGO_MAX, DIGITS};
use super::*;
use crate::domain::arn::PrincipalType;
use crate::domain::clock::utc;
use crate::domain::input::{PollOptions, ReportOptions};
use crate::domain::job::{JobError, JobStatus};
use crate::domain::outcome::{ActionCell, BatchResult, PrincipalOutcome, ServiceCell};
use crate::domain::report::{Changes, ClassChanges};
use crate::domain::run::PlanRecord;
use crate::domain::summary::{summarize, Closing, RunRecords};
use crate::domain::usage::Usage;
use serde_json::Value;

const HOSTILE: &str = "</script><script>alert(1)</script>";

/// A plan record, read as Plan writes it (fields added later with defaults need no change).
fn plan(principals: u32) -> PlanRecord {
    serde_json::from_value(serde_json::json!({
        "run_id": "run-1",
        "dt": "2026-11-25",
        "started_at": "2026-11-25T00:00:00Z",
        "granularity": "ACTION_LEVEL",
        "batch_size": 50,
        "batch_size_requested": 50,
        "max_concurrency": 1,
        "poll": PollOptions::default(),
        "report": ReportOptions::default(),
        "explicit_arns": 0,
        "discover": null,
        "principals": principals,
        "batches": 1,
        "previous_run": {"run_id": "run-0", "dt": "2026-11-24", "as_of": "2026-11-24T00:00:00Z"},
    }))
    .expect("a plan record")
}

fn cell(ns: &str, class: Usage, days: Option<i64>, last: Option<&str>) -> ServiceCell {
    ServiceCell {
        ns: ns.into(),
        class,
        days,
        last: last.map(str::to_string),
        policies: Vec::new(),
        actions: Vec::new(),
    }
}

fn outcomes() -> Vec<PrincipalOutcome> {
    let mut s3 = cell("s3", Usage::Active, Some(3), Some("2026-11-21T12:00:00Z"));
    s3.actions = vec![
        ActionCell {
            action: "s3:GetObject".into(),
            class: Usage::Active,
            last: Some("2026-11-21T12:00:00Z".into()),
        },
        ActionCell {
            action: "s3:PutObject".into(),
            class: Usage::NeverUsed,
            last: None,
        },
    ];
    let mut ec2 = cell("ec2", Usage::Stale, Some(200), Some("2026-05-09T00:00:00Z"));
    ec2.policies = vec![format!("{HOSTILE} (Inline)"), "Admin (AWS_MANAGED)".into()];
    let app = PrincipalOutcome {
        arn: "arn:aws:iam::123456789012:role/app".into(),
        principal_id: None,
        principal_type: PrincipalType::Role,
        status: JobStatus::Completed,
        report_key: "reports/x/app.json".into(),
        account: "123456789012".into(),
        services_granted: 4,
        services_active: 1,
        services_stale: 2,
        services_never_used: 1,
        error: None,
        services: vec![
            s3,
            ec2,
            cell("iam", Usage::NeverUsed, None, None),
            // Not IAM's form: kept as the report has it.
            cell(
                "sqs",
                Usage::Stale,
                Some(120),
                Some("2026-07-28T00:00:00.5+02:00"),
            ),
        ],
        changes: Some(Changes {
            previous_run: None,
            new: false,
            recreated: false,
            services: ClassChanges {
                newly_stale: vec!["ec2".into()],
                ..ClassChanges::default()
            },
            actions: None,
        }),
        recommended: None,
        fingerprint: None,
        data_as_of: None,
        entities: false,
        incremental: None,
    };
    let gone = PrincipalOutcome {
        arn: "arn:aws:iam::123456789012:user/gone".into(),
        principal_id: None,
        principal_type: PrincipalType::User,
        status: JobStatus::NotFound,
        report_key: "reports/x/gone.json".into(),
        account: "123456789012".into(),
        services_granted: 0,
        services_active: 0,
        services_stale: 0,
        services_never_used: 0,
        error: Some(JobError {
            code: "NoSuchEntity".into(),
            message: format!("gone {HOSTILE}"),
        }),
        services: Vec::new(),
        changes: None,
        recommended: None,
        fingerprint: None,
        data_as_of: None,
        entities: false,
        incremental: None,
    };
    vec![app, gone]
}

fn run(outcomes: Vec<PrincipalOutcome>) -> (RunSummary, Vec<PrincipalOutcome>) {
    let n = outcomes.len() as u32;
    summarize(
        plan(n),
        RunRecords {
            results: vec![BatchResult {
                job_binding: None,
                index: 0,
                principals: outcomes,
            }],
            previous_arns: Some(vec!["arn:aws:iam::123456789012:role/old".into()]),
            ..RunRecords::default()
        },
        Closing {
            finished_at: "2026-11-25T00:10:00Z".into(),
            duration_seconds: 600,
            reports_prefix: "reports/runs/dt=2026-11-25/run=run-1/".into(),
            max_failed_percent: 50.0,
        },
    )
}

#[derive(Debug, Clone, PartialEq)]
enum Packed {
    Ago(i64),
    None,
    Irregular,
}

fn digits(text: &[u8], at: &mut usize, width: usize) -> usize {
    let mut n = 0;
    for _ in 0..width {
        n = n * 64 + DIGITS.iter().position(|&d| d == text[*at]).unwrap();
        *at += 1;
    }
    n
}

/// A principal's cells, as page.js reads them: (key, last use).
fn unpack_cells(text: &str, enc: &Value) -> Vec<(usize, Packed)> {
    let (text, kw) = (text.as_bytes(), enc["k"].as_u64().unwrap() as usize);
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let k = digits(text, &mut at, kw);
        let v = match text[at] {
            b'.' => {
                at += 1;
                Packed::None
            }
            b'~' => {
                at += 1;
                Packed::Irregular
            }
            _ => Packed::Ago(digits(text, &mut at, AGO_DIGITS) as i64),
        };
        out.push((k, v));
    }
    out
}

/// A principal's policies, as page.js reads them: (cell, [policy index]).
fn unpack_policies(text: &str, enc: &Value) -> Vec<(usize, Vec<usize>)> {
    let text = text.as_bytes();
    let (cw, pw) = (
        enc["c"].as_u64().unwrap() as usize,
        enc["p"].as_u64().unwrap() as usize,
    );
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let cell = digits(text, &mut at, cw);
        let n = digits(text, &mut at, 1);
        out.push((cell, (0..n).map(|_| digits(text, &mut at, pw)).collect()));
    }
    out
}

/// The text of `<script type="application/json" id="ila-data">`.
fn embedded(html: &str) -> &str {
    let open = r#"<script type="application/json" id="ila-data">"#;
    assert_eq!(html.matches(open).count(), 1, "the data is embedded once");
    let start = html.find(open).unwrap() + open.len();
    let len = html[start..].find("</script>").unwrap();
    &html[start..start + len]
}

fn data(html: &str) -> Value {
    serde_json::from_str(embedded(html)).expect("the embedded data is JSON")
}

#[test]
fn page_embeds_the_data_parseable_back() {
    let (summary, outcomes) = run(outcomes());
    let html = render(&summary, &outcomes);
    assert!(html.starts_with("<!doctype html>"));
    let d = data(&html);
    assert_eq!(d["run"]["run_id"], "run-1");
    assert_eq!(d["run"]["as_of"], "2026-11-25T00:00:00Z");
    assert_eq!(d["run"]["granularity"], "ACTION_LEVEL");
    assert_eq!(d["run"]["unused_days"], 90);
    assert_eq!(d["run"]["status"], "SUCCEEDED");
    assert_eq!(d["counts"]["services_granted"], 4);
    assert_eq!(d["changes"]["principals_gone"], 1);
    assert_eq!(
        d["changes"]["gone"][0],
        "arn:aws:iam::123456789012:role/old"
    );
    assert_eq!(
        d["changes"]["largest"][0]["arn"],
        "arn:aws:iam::123456789012:role/app"
    );
    assert!(
        d.get("report_keys").is_none(),
        "report keys are not embedded"
    );
    // Nor the principals' (the top 20 lists keep theirs).
    assert!(!html.contains("reports/x/gone.json"));

    let services: Vec<&str> = d["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(services.len(), 4);
    let p = &d["principals"][0];
    assert_eq!(p[0], "arn:aws:iam::123456789012:role/app");
    assert_eq!(p[1], "role");
    assert_eq!(p[2], "COMPLETED");
    assert_eq!((p[3].clone(), p[5].clone()), (4.into(), 2.into()));
    assert_eq!(p[7], 2, "changed");
    assert_eq!(p[9]["ch"]["newly_stale"][0], "ec2");
    let as_of = d["run"]["as_of_epoch"].as_i64().unwrap();
    let enc = &d["enc"];
    let cells = unpack_cells(p[8].as_str().unwrap(), enc);
    assert_eq!(cells.len(), 4);
    let decode = |i: usize| {
        let (k, ref v) = cells[i];
        (
            services[k / 3],
            ["active", "stale", "never_used"][k % 3],
            v.clone(),
        )
    };
    // s3: 3 days and a half before as_of, in seconds.
    let (ns, class, v) = decode(0);
    assert_eq!((ns, class), ("s3", "active"));
    let Packed::Ago(ago) = v else { panic!("{v:?}") };
    assert_eq!(ago / 86_400, 3);
    assert_eq!(
        utc::format(time::OffsetDateTime::from_unix_timestamp(as_of - ago).unwrap()),
        "2026-11-21T12:00:00Z"
    );
    assert_eq!(decode(1).0, "ec2");
    assert_eq!(decode(1).1, "stale");
    assert!(matches!(decode(1).2, Packed::Ago(a) if a / 86_400 == 200));
    assert_eq!(
        (decode(2).0, decode(2).1, decode(2).2),
        ("iam", "never_used", Packed::None)
    );
    // Not IAM's form: kept as the report has it.
    assert_eq!(decode(3).2, Packed::Irregular);
    assert_eq!(
        p[9]["i"]["3"],
        serde_json::json!([120, "2026-07-28T00:00:00.5+02:00"])
    );
    // Policies and actions by index.
    let policies = d["policies"].as_array().unwrap();
    let packed = unpack_policies(p[9]["p"].as_str().unwrap(), enc);
    assert_eq!(packed.len(), 1);
    assert_eq!(packed[0].0, 1, "ec2's");
    let names: Vec<&str> = packed[0]
        .1
        .iter()
        .map(|&i| policies[i].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            format!("{HOSTILE} (Inline)").as_str(),
            "Admin (AWS_MANAGED)"
        ]
    );
    let actions = d["actions"].as_array().unwrap();
    let s3_actions = p[9]["x"]["0"].as_array().unwrap();
    assert_eq!(s3_actions.len(), 4);
    let k = s3_actions[2].as_u64().unwrap() as usize;
    assert_eq!(actions[k / 3], "s3:PutObject");
    assert_eq!(k % 3, 2);
    assert!(s3_actions[3].is_null());

    let gone = &d["principals"][1];
    assert_eq!(gone[2], "NOT_FOUND");
    assert_eq!(gone[7], 0, "not compared");
    assert_eq!(gone[9]["e"]["code"], "NoSuchEntity");
}

#[test]
fn page_escapes_a_hostile_string() {
    let (summary, outcomes) = run(outcomes());
    let html = render(&summary, &outcomes);
    let script = embedded(&html);
    assert!(!script.contains('<'));
    assert!(!script.contains('>'));
    assert!(script.contains(r"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"));
    assert!(!html.contains("alert(1)</script>"));
    // The only script elements are the page's two.
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("</script>").count(), 2);
    // And it reads back as written.
    let d = data(&html);
    assert!(d["policies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p.as_str().unwrap().starts_with(HOSTILE)));
    assert_eq!(
        d["principals"][1][9]["e"]["message"],
        format!("gone {HOSTILE}")
    );
}

#[test]
fn page_title_is_escaped() {
    let (mut summary, outcomes) = run(outcomes());
    summary.run_id = "<b>&\"".into();
    let html = render(&summary, &outcomes);
    assert!(html.contains("<title>iam-last-accessed: run &lt;b&gt;&amp;&quot;</title>"));
}

#[test]
fn page_loads_nothing_from_elsewhere() {
    let (summary, outcomes) = run(outcomes());
    let html = render(&summary, &outcomes);
    let lower = html.to_lowercase();
    for needle in [
        "http://", "https://", "src=", "href=", "@import", "url(", "//cdn",
    ] {
        assert!(!lower.contains(needle), "the page carries {needle:?}");
    }
    assert!(lower.contains("content-security-policy"));
    // The static parts cannot close their own elements early.
    assert!(!CSS.contains("</style"));
    assert!(!JS.to_lowercase().contains("</script"));
}

#[test]
fn page_carries_the_hooks_and_classes() {
    let (summary, outcomes) = run(outcomes());
    let html = render(&summary, &outcomes);
    for hook in [
        r#"id="totals""#,
        r#"id="changes""#,
        r#"id="heatmap""#,
        r#"id="detail""#,
        r#"id="principal-pager""#,
        r#"<input id="principal-filter""#,
        r#"<input id="service-filter""#,
        r#"<table id="principals""#,
        r#"<table id="services""#,
        r#"<table id="accounts""#,
        r#"<input id="account-filter""#,
        r#"<select id="account-status""#,
        r#"id="account-count""#,
        r#"data-sort="account""#,
        r#"data-sort="recommendations""#,
        "data-sort=",
        "dataset.ready = '1'",
        "ILA_FIRST_RENDER_MS",
    ] {
        assert!(html.contains(hook), "missing {hook}");
    }
    for class in ["active", "stale", "never_used", "never used", "none"] {
        assert!(html.contains(class), "missing class {class}");
    }
    for css in [
        ".c-none",
        ".c-never_used",
        ".cls-active",
        ".cls-stale",
        ".cls-never_used",
    ] {
        assert!(html.contains(css), "missing {css}");
    }
    // The old vocabulary is not used.
    assert!(!html.contains("\"used\"") && !html.contains("\"unused\""));
}

#[test]
fn page_of_an_empty_run_renders() {
    let (summary, outcomes) = run(Vec::new());
    assert!(outcomes.is_empty());
    let html = render(&summary, &outcomes);
    let d = data(&html);
    assert_eq!(d["principals"], serde_json::json!([]));
    assert_eq!(d["services"], serde_json::json!([]));
    assert_eq!(d["counts"]["reports_written"], 0);
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn page_without_a_parseable_as_of_keeps_last_uses_as_text() {
    let (mut summary, outcomes) = run(outcomes());
    summary.as_of = "not a date".into();
    let html = render(&summary, &outcomes);
    let d = data(&html);
    assert!(d["run"]["as_of_epoch"].is_null());
    let cells = unpack_cells(d["principals"][0][8].as_str().unwrap(), &d["enc"]);
    assert!(cells.iter().all(|c| !matches!(c.1, Packed::Ago(_))));
    assert_eq!(
        d["principals"][0][9]["i"]["0"],
        serde_json::json!([3, "2026-11-21T12:00:00Z"])
    );
}

#[test]
fn script_safe_keeps_json_valid() {
    let text = "a<b>c&d\u{2028}e\u{2029}";
    let json = serde_json::to_string(&text).unwrap();
    let safe = script_safe(&json);
    assert!(!safe.contains(['<', '>', '&', '\u{2028}', '\u{2029}']));
    assert_eq!(serde_json::from_str::<String>(&safe).unwrap(), text);
}

#[test]
fn packed_numbers_take_their_digits_most_significant_first() {
    let mut s = String::new();
    push_digits(&mut s, 4095, 2);
    push_digits(&mut s, 64, 2);
    push_digits(&mut s, AGO_MAX as u64, AGO_DIGITS);
    assert_eq!(s, "__BA_____");
}

#[test]
fn many_policies_take_several_entries() {
    let (summary, mut outcomes) = run(outcomes());
    let names: Vec<String> = (0..100).map(|i| format!("p{i} (Inline)")).collect();
    outcomes[0].services[2].policies = names.clone();
    let d = data(&render(&summary, &outcomes));
    let packed = unpack_policies(d["principals"][0][9]["p"].as_str().unwrap(), &d["enc"]);
    let policies = d["policies"].as_array().unwrap();
    let iam: Vec<&str> = packed
        .iter()
        .filter(|(cell, _)| *cell == 2)
        .flat_map(|(_, ps)| ps.iter().map(|&i| policies[i].as_str().unwrap()))
        .collect();
    assert_eq!(iam, names);
    assert_eq!(packed.iter().filter(|(cell, _)| *cell == 2).count(), 2);
}

#[test]
fn a_principals_recommendations_reach_its_drill_down() {
    let mut all = outcomes();
    all[0].recommended = Some(crate::domain::outcome::Recommended {
        recommendations: 1,
        services_removable: 1,
        lines: vec![r#"UPDATE_POLICY "app-inline" (inline): removes ec2"#.into()],
        ..crate::domain::outcome::Recommended::default()
    });
    let (summary, outcomes) = run(all);
    let d = data(&render(&summary, &outcomes));
    let first = &d["principals"][0];
    assert_eq!(
        first[9]["r"],
        serde_json::json!([r#"UPDATE_POLICY "app-inline" (inline): removes ec2"#]),
        "{first}"
    );
    assert!(
        d["principals"][1]
            .get(9)
            .is_none_or(|x| x.get("r").is_none()),
        "none where the outcome has none"
    );
    assert_eq!(first[9]["n"], 1, "its recommendations, counted");
    assert!(first[9].get("w").is_none(), "none withheld");
}

#[test]
fn a_principals_recommendations_count_and_withholding_reach_the_page() {
    use crate::domain::outcome::Recommended;
    let mut all = outcomes();
    all[0].recommended = Some(Recommended {
        recommendations: 3,
        lines: vec!["a".into(), "b".into(), "c".into()],
        ..Recommended::default()
    });
    all[1].recommended = Some(Recommended {
        withheld: Some("job NOT_FOUND".into()),
        lines: vec!["no recommendation: job NOT_FOUND".into()],
        ..Recommended::default()
    });
    let mut plan = plan(2);
    plan.report.recommendations = true;
    let (summary, outcomes) = summarize(
        plan,
        RunRecords {
            results: vec![BatchResult {
                job_binding: None,
                index: 0,
                principals: all,
            }],
            ..RunRecords::default()
        },
        Closing {
            finished_at: "2026-11-25T00:10:00Z".into(),
            duration_seconds: 600,
            reports_prefix: "reports/principals/dt=2026-11-25/run=run-1/".into(),
            max_failed_percent: 50.0,
        },
    );
    let d = data(&render(&summary, &outcomes));
    assert_eq!(d["run"]["recommendations"], true, "the run asked for them");
    let (app, gone) = (&d["principals"][0], &d["principals"][1]);
    assert_eq!(
        (&app[9]["n"], app[9].get("w")),
        (&serde_json::json!(3), None)
    );
    assert_eq!(
        (gone[9].get("n"), &gone[9]["w"]),
        (None, &Value::Bool(true))
    );
    // A run that did not ask says so (a principal without `n` has none either way).
    let (summary, outcomes) = run(super::tests::outcomes());
    assert_eq!(
        data(&render(&summary, &outcomes))["run"]["recommendations"],
        false
    );
}

#[test]
fn a_principals_account_is_its_arns_unless_the_page_says_another() {
    let mut all = outcomes();
    all[1].arn = "arn:aws:iam::aws:policy/ReadOnlyAccess".into();
    all[1].principal_type = PrincipalType::AwsManagedPolicy;
    all[1].account = "210987654321".into();
    let (summary, outcomes) = run(all);
    let d = data(&render(&summary, &outcomes));
    let (app, managed) = (&d["principals"][0], &d["principals"][1]);
    assert!(
        app.get(9).is_none_or(|x| x.get("a").is_none()),
        "its ARN names its account: {app}"
    );
    assert_eq!(managed[0], "arn:aws:iam::aws:policy/ReadOnlyAccess");
    assert_eq!(
        managed[9]["a"], "210987654321",
        "the account it was scanned in"
    );
}

#[test]
fn a_re_created_principal_is_marked_with_its_new_id() {
    let mut all = outcomes();
    all[0].principal_id = Some("AROANEW0000000000000".into());
    all[0].changes = Some(Changes {
        previous_run: None,
        new: true,
        recreated: true,
        services: ClassChanges::default(),
        actions: None,
    });
    let (summary, outcomes) = run(all);
    assert_eq!(
        (
            summary.changes.principals_new,
            summary.changes.principals_recreated
        ),
        (1, 1)
    );
    let d = data(&render(&summary, &outcomes));
    assert_eq!(d["changes"]["principals_recreated"], 1);
    let app = &d["principals"][0];
    assert_eq!(app[0], "arn:aws:iam::123456789012:role/app");
    assert_eq!(app[7], 4, "mark 4: re-created");
    assert_eq!(app[9]["id"], "AROANEW0000000000000", "its new unique id");
    // A principal not re-created carries no id on the page (the report has it).
    assert!(d["principals"][1]
        .get(9)
        .is_none_or(|x| x.get("id").is_none()));
}

#[test]
fn a_page_keeps_the_most_unused_principals_that_fit_its_budget() {
    let (_, template) = run(outcomes());
    let app = &template[0];
    let principals: Vec<PrincipalOutcome> = (0..200u32)
        .map(|i| {
            let mut o = app.clone();
            o.arn = format!("arn:aws:iam::123456789012:role/r{i:03}");
            // 0 to 9 unused, shuffled by the index.
            o.services_stale = (i * 7) % 10;
            o
        })
        .collect();
    let budget = 20_000;
    let mut page = PageBuilder::new("2026-11-25T00:00:00Z", budget);
    for o in &principals {
        page.add(o);
    }
    let (summary, _) = run(principals.clone());
    let index = crate::domain::keys::index_key(&summary.dt, &summary.run_id);
    let html = render_page(&PageHead::of_run(&summary, index, false), page);
    let d = data(&html);
    let kept: Vec<&str> = d["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert!(!kept.is_empty() && kept.len() < 200, "{}", kept.len());
    assert_eq!(d["shown"]["principals"], kept.len());
    assert_eq!(d["shown"]["of"], 200);
    assert_eq!(
        d["shown"]["index_key"],
        "reports/runs/dt=2026-11-25/run=run-1/principals.json"
    );
    let bytes = serde_json::to_string(&d["principals"]).unwrap().len();
    assert!(bytes <= budget, "{bytes} bytes of principals");
    let unused = |arn: &str| {
        let o = principals.iter().find(|o| o.arn == arn).unwrap();
        o.services_unused()
    };
    let least_kept = kept.iter().map(|a| unused(a)).min().unwrap();
    let dropped = principals
        .iter()
        .filter(|o| !kept.contains(&o.arn.as_str()));
    assert!(
        dropped
            .into_iter()
            .all(|o| o.services_unused() <= least_kept),
        "none dropped has more unused services than one kept"
    );
    let mut sorted = kept.clone();
    sorted.sort();
    assert_eq!(kept, sorted, "kept in the order they came");
    // The services' table counts every principal, shown or not.
    let s3 = d["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s[0] == "s3")
        .unwrap();
    assert_eq!(s3[1], 200);
}

#[test]
fn an_overview_keeps_no_principal_but_counts_their_services() {
    let (summary, outcomes) = run(outcomes());
    let mut page = PageBuilder::new(&summary.as_of, 0);
    for o in &outcomes {
        page.add(o);
    }
    let head = PageHead::of_run(&summary, "i".into(), true);
    let d = data(&render_page(&head, page));
    assert_eq!(d["principals"], serde_json::json!([]));
    assert_eq!(d["shown"]["of"], 2);
    assert_eq!(d["services"].as_array().unwrap().len(), 4);
    assert!(d["accounts"].is_array());
}

#[test]
fn an_overview_names_every_account_and_why_one_was_not_read() {
    use crate::domain::account::{AccountItem, AccountRecord, AccountRun};
    use crate::domain::arn::AccountId;
    let item = |id: &str, name: &str| AccountItem {
        name: name.into(),
        ou_path: "r-ab12/ou-ab12-11111111".into(),
        ..AccountItem::own(AccountId::parse(id).unwrap())
    };
    let read = item("123456789012", "prod");
    let accounts = vec![
        AccountRun {
            record: Some(AccountRecord {
                item: read.clone(),
                state: crate::domain::account::AccountState::Planned,
                error: None,
                principals: 2,
                batches: 1,
                batch_size: 50,
                skipped: Vec::new(),
                carry: None,
            }),
            item: read,
            failure: None,
        },
        AccountRun {
            record: Some(AccountRecord::unreachable(
                item("210987654321", "sandbox"),
                "AccessDenied: not authorized to perform: sts:AssumeRole".into(),
                50,
            )),
            item: item("210987654321", "sandbox"),
            failure: None,
        },
    ];
    let (summary, outcomes) = summarize(
        plan(2),
        RunRecords {
            results: vec![BatchResult {
                job_binding: None,
                index: 0,
                principals: outcomes(),
            }],
            accounts,
            ..RunRecords::default()
        },
        Closing {
            finished_at: "2026-11-25T00:10:00Z".into(),
            duration_seconds: 600,
            reports_prefix: "reports/principals/dt=2026-11-25/run=run-1/".into(),
            max_failed_percent: 50.0,
        },
    );
    let mut page = PageBuilder::new(&summary.as_of, 0);
    outcomes.iter().for_each(|o| page.add(o));
    let d = data(&render_page(
        &PageHead::of_run(&summary, "i".into(), true),
        page,
    ));
    let lines: Vec<(&str, &str, &str, &str)> = d["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or("");
            (s("id"), s("name"), s("status"), s("error"))
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("123456789012", "prod", "SUCCEEDED", ""),
            (
                "210987654321",
                "sandbox",
                "UNREACHABLE",
                "AccessDenied: not authorized to perform: sts:AssumeRole"
            ),
        ]
    );
    assert_eq!(d["accounts"][0]["ou_path"], "r-ab12/ou-ab12-11111111");
}
