//! Unit tests: argument parsing (clap's `try_parse_from`) and output formatting.

use crate::commands::run::run_input;
use crate::commands::status::render as render_status;
use crate::commands::stop::{
    render as render_stop, stop_cause, stop_failure, stoppable, Stopped, STOP_ERROR,
};
use crate::commands::{report, runs, Command};
use crate::failure::{AwsError, Exit};
use crate::format::{render_batches, seconds, summary_text, table};
use crate::progress::{line, Phase};
use crate::stack::{execution_arn, BatchCounts, RunState, SummaryKey};
use crate::{Cli, Output};
use clap::error::ErrorKind;
use clap::Parser;
use last_accessed::domain::input::Granularity;
use last_accessed::domain::report::PrincipalReport;
use last_accessed::domain::summary::RunSummary;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("ila").chain(args.iter().copied()))
}

fn kind(args: &[&str]) -> ErrorKind {
    parse(args).expect_err("a clap error").kind()
}

#[test]
fn help_on_every_command_exits_zero() {
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["status", "--help"],
        &["stop", "--help"],
        &["summary", "--help"],
        &["runs", "--help"],
        &["report", "--help"],
        &["diff", "--help"],
        &["open", "--help"],
        &["recommendations", "--help"],
        &["help", "report"],
    ] {
        let err = parse(args).expect_err("help is an early exit");
        assert_eq!(err.kind(), ErrorKind::DisplayHelp, "{args:?}");
        assert_eq!(err.exit_code(), 0, "{args:?}");
    }
    let help = parse(&["--help"]).unwrap_err().to_string();
    for text in [
        "Exit codes:",
        "  2  usage error",
        "STATE_MACHINE_ARN",
        "REPORT_BUCKET",
    ] {
        assert!(help.contains(text), "--help lacks {text:?}:\n{help}");
    }
}

#[test]
fn usage_errors_exit_two() {
    for (args, expected) in [
        (&["run", "--bogus"][..], ErrorKind::UnknownArgument),
        (&["status"], ErrorKind::MissingRequiredArgument),
        (&["stop"], ErrorKind::MissingRequiredArgument),
        (&["stop", "r1", "r2"], ErrorKind::UnknownArgument),
        (&["summary"], ErrorKind::MissingRequiredArgument),
        (&["diff"], ErrorKind::MissingRequiredArgument),
        (&["open", "r1", "--bogus"], ErrorKind::UnknownArgument),
        (
            &["summary", "r1", "--key", "k"],
            ErrorKind::ArgumentConflict,
        ),
        (&["report", "not-an-arn"], ErrorKind::ValueValidation),
        (&["runs", "--max", "0"], ErrorKind::ValueValidation),
        (&["run", "--granularity", "FINE"], ErrorKind::InvalidValue),
        (&["--output", "yaml", "runs"], ErrorKind::InvalidValue),
        (&["frobnicate"], ErrorKind::InvalidSubcommand),
        (&[], ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand),
    ] {
        assert_eq!(kind(args), expected, "{args:?}");
        assert_eq!(parse(args).unwrap_err().exit_code(), 2, "{args:?}");
    }
}

#[test]
fn run_takes_todays_flags() {
    let cli = parse(&[
        "run",
        "--input",
        "examples/demo.json",
        "--arn",
        "arn:aws:iam::123456789012:role/a",
        "--arn",
        "arn:aws:iam::123456789012:role/b",
        "--granularity",
        "action_level",
        "--name",
        "n1",
        "--no-wait",
        "--state-machine",
        "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
        "--bucket",
        "b",
        "--output",
        "json",
    ])
    .unwrap();
    assert_eq!(cli.output, Output::Json);
    assert_eq!(cli.bucket.as_deref(), Some("b"));
    let Command::Run(run) = cli.command else {
        panic!("not run")
    };
    assert_eq!(run.input.as_deref(), Some("examples/demo.json"));
    assert_eq!(run.arns.len(), 2);
    assert_eq!(run.granularity, Some(Granularity::ActionLevel));
    assert_eq!(run.name.as_deref(), Some("n1"));
    assert!(run.no_wait);
}

#[test]
fn summary_by_run_or_key_and_report_with_run() {
    let Command::Summary(s) = parse(&["summary", "--key", "reports/runs/x"])
        .unwrap()
        .command
    else {
        panic!()
    };
    assert_eq!((s.run, s.key.as_deref()), (None, Some("reports/runs/x")));
    let Command::Report(r) = parse(&["report", "arn:aws:iam::123456789012:user/u", "--run", "r1"])
        .unwrap()
        .command
    else {
        panic!()
    };
    assert_eq!(r.arn.name(), "u");
    assert_eq!(r.run.as_deref(), Some("r1"));
    let Command::Runs(r) = parse(&["runs"]).unwrap().command else {
        panic!()
    };
    assert_eq!(r.max, 20);
}

#[test]
fn run_input_puts_flags_over_the_file() {
    let Command::Run(args) = parse(&[
        "run",
        "--input",
        "-",
        "--arn",
        "arn:aws:iam::123456789012:role/a",
        "--granularity",
        "SERVICE_LEVEL",
    ])
    .unwrap()
    .command
    else {
        panic!()
    };
    let input = run_input(&args, || {
        Ok(r#"{"arns": ["x"], "granularity": "ACTION_LEVEL", "batch_size": 5}"#.into())
    })
    .unwrap();
    assert_eq!(
        input,
        serde_json::json!({"arns": ["arn:aws:iam::123456789012:role/a"], "granularity": "SERVICE_LEVEL", "batch_size": 5})
    );
    let not_object = run_input(&args, || Ok("[1]".into())).unwrap_err();
    assert_eq!(not_object.exit, Exit::Usage);
    assert!(not_object.message.contains("must be a JSON object"));
    let not_json = run_input(&args, || Ok("{".into())).unwrap_err();
    assert!(
        not_json.message.contains("is not JSON"),
        "{}",
        not_json.message
    );
}

#[test]
fn a_reused_name_is_a_sentence_and_a_usage_error() {
    let e = AwsError {
        operation: "StartExecution",
        code: Some("ExecutionAlreadyExists".into()),
        message: Some("Execution Already Exists: 'arn:…:r1'".into()),
        transport: None,
    };
    let f = crate::commands::run::start_failure("r1", e);
    assert_eq!(f.exit, Exit::Usage);
    assert!(
        f.message.starts_with("a run named \"r1\" already exists"),
        "{}",
        f.message
    );
    assert!(f
        .message
        .contains("StartExecution failed: ExecutionAlreadyExists"));
    assert!(f.message.contains("Pick another --name"));
    let denied = AwsError {
        operation: "ListExecutions",
        code: Some("AccessDeniedException".into()),
        message: Some("not allowed.".into()),
        transport: None,
    }
    .failure();
    assert_eq!(denied.exit, Exit::Aws);
    assert_eq!(
        denied.message,
        "ListExecutions failed: AccessDeniedException: not allowed. Your credentials lack this permission: use a role or user that has it."
    );
}

#[test]
fn keys_and_arns() {
    assert_eq!(
        execution_arn("arn:aws:states:us-east-1:1:stateMachine:sm", "r1"),
        "arn:aws:states:us-east-1:1:execution:sm:r1"
    );
    assert_eq!(
        SummaryKey::parse("reports/runs/dt=2026-11-25/run=r-1/summary.json"),
        Some(SummaryKey {
            key: "reports/runs/dt=2026-11-25/run=r-1/summary.json".into(),
            dt: "2026-11-25".into(),
            run: "r-1".into()
        })
    );
    assert_eq!(
        SummaryKey::parse("reports/runs/dt=2026-11-25/other.json"),
        None
    );
}

#[test]
fn tables_and_durations() {
    let t = table(
        &["A", "LONG HEADER", "Z"],
        &[vec!["wide cell".into(), "x".into(), "last".into()]],
    );
    assert_eq!(
        t,
        "A          LONG HEADER  Z\nwide cell  x            last\n"
    );
    assert_eq!(seconds(5), "5 s");
    assert_eq!(seconds(200), "3 min 20 s");
    assert_eq!(seconds(7500), "2 h 5 min");
}

fn counts(succeeded: i64, failed: i64, total: i64) -> BatchCounts {
    BatchCounts {
        total,
        succeeded,
        running: total - succeeded - failed,
        failed,
    }
}

#[test]
fn progress_lines() {
    assert_eq!(line("RUNNING", &Phase::Planning), "RUNNING: planning");
    assert_eq!(
        line(
            "RUNNING",
            &Phase::Batches {
                counts: counts(1, 0, 4),
                principals: Some(40)
            }
        ),
        "RUNNING: batches 1 of 4 done: 1 succeeded, 3 running (40 principals)"
    );
    assert_eq!(render_batches(&counts(3, 0, 3)), "3 of 3 succeeded");
    assert_eq!(
        render_batches(&counts(2, 1, 3)),
        "3 of 3 done: 2 succeeded, 1 failed"
    );
    assert_eq!(
        line(
            "RUNNING",
            &Phase::Batches {
                counts: counts(1, 0, 3),
                principals: Some(9)
            }
        ),
        "RUNNING: batches 1 of 3 done: 1 succeeded, 2 running (9 principals)"
    );
}

fn failed_state() -> RunState {
    RunState {
        run_id: "r1".into(),
        execution_arn: "arn".into(),
        status: "FAILED".into(),
        started_at: "2026-11-25T17:00:00Z".into(),
        stopped_at: Some("2026-11-25T17:03:20Z".into()),
        error: Some("IncompleteRun".into()),
        cause: Some("1 of 3 batches failed".into()),
        batches: Some(counts(2, 1, 3)),
        output: None,
    }
}

#[test]
fn status_text_and_exit() {
    let s = failed_state();
    assert_eq!(
        render_status(&s),
        "run       r1\nstatus    FAILED\nstarted   2026-11-25T17:00:00Z\n\
         stopped   2026-11-25T17:03:20Z (after 3 min 20 s)\n\
         batches   3 of 3 done: 2 succeeded, 1 failed\nerror     IncompleteRun\n\
         cause     1 of 3 batches failed\nsummary   ila summary r1\n"
    );
    assert_eq!(s.exit(), Exit::Failed);
    let running = RunState {
        status: "RUNNING".into(),
        ..s
    };
    assert_eq!(running.exit(), Exit::Success);
    let json = serde_json::to_value(&running).unwrap();
    assert_eq!(json["batches"]["failed"], 1);
    assert!(json.get("output").is_none());
}

#[test]
fn stop_takes_a_run_and_refuses_a_finished_one() {
    let Command::Stop(args) = parse(&["stop", "r1"]).unwrap().command else {
        panic!("not stop")
    };
    assert_eq!(args.run, "r1");

    let running = RunState {
        status: "RUNNING".into(),
        stopped_at: None,
        ..failed_state()
    };
    assert!(stoppable(&running).is_ok());
    for status in ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] {
        let done = RunState {
            status: status.into(),
            ..failed_state()
        };
        let f = stoppable(&done).expect_err(status);
        assert_eq!(f.exit, Exit::Failed, "{status}");
        assert_eq!(
            f.message,
            format!("run \"r1\" is not running: it ended {status} at 2026-11-25T17:03:20Z, so there is nothing to stop. `ila status r1` shows it.")
        );
    }
}

#[test]
fn the_stop_names_who_stopped_it_and_what_it_did() {
    assert_eq!(
        stop_cause(Some("arn:aws:iam::123456789012:user/alice")),
        "stopped with `ila stop` by arn:aws:iam::123456789012:user/alice"
    );
    assert!(stop_cause(None).starts_with("stopped with `ila stop` by "));
    let stopped = Stopped {
        run: "r1".into(),
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:r1".into(),
        status: "ABORTED".into(),
        stopped_at: "2026-11-25T17:03:20Z".into(),
        error: STOP_ERROR.into(),
        cause: stop_cause(Some("arn:aws:iam::123456789012:user/alice")),
    };
    assert_eq!(
        render_stop(&stopped),
        "run       r1\nstatus    ABORTED\nstopped   2026-11-25T17:03:20Z\nerror     Stopped\n\
         cause     stopped with `ila stop` by arn:aws:iam::123456789012:user/alice\n\
         The run's Map Runs and child executions stop with it: no function invocation of it starts \
         after the stop, the ones in flight finish. It has no summary; `ila status r1` shows it.\n"
    );
    let json = serde_json::to_value(&stopped).unwrap();
    assert_eq!(json["status"], "ABORTED");
    assert_eq!(json["error"], "Stopped");
}

#[test]
fn stop_refusals_are_sentences() {
    let missing = AwsError {
        operation: "StopExecution",
        code: Some("ExecutionDoesNotExist".into()),
        message: Some("Execution Does Not Exist: 'arn:…:r9'".into()),
        transport: None,
    };
    let f = stop_failure("r9", &missing);
    assert_eq!(f.exit, Exit::Failed);
    assert_eq!(
        f.message,
        "no run named \"r9\" to stop (StopExecution failed: ExecutionDoesNotExist: Execution Does Not Exist: 'arn:…:r9'). `ila runs` lists the recent runs."
    );
    let denied = AwsError {
        operation: "StopExecution",
        code: Some("AccessDeniedException".into()),
        message: Some("not allowed".into()),
        transport: None,
    };
    let f = stop_failure("r1", &denied);
    assert_eq!(f.exit, Exit::Aws);
    assert!(
        f.message.starts_with(
            "StopExecution failed: AccessDeniedException: not allowed. Your credentials lack"
        ),
        "{}",
        f.message
    );
}

fn fixture<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_str(text).expect("fixture")
}

#[test]
fn the_summary_as_text() {
    let s: RunSummary = fixture(include_str!("testdata/summary.json"));
    let text = summary_text(&s, "bucket", "reports/runs/k.json");
    assert!(text.starts_with("run cli-try-2 — SUCCEEDED in "), "{text}");
    for expected in [
        "principals: 1 planned, 1 reported (1 role)",
        "jobs:       1 COMPLETED",
        "services:   3 granted: 1 active, 1 stale (90+ days), 1 never used",
        "changes:    since cli-try-1 (2026-11-25T00:00:00Z): 0 new, 1 gone, 1 changed, 0 unchanged",
        "     2 of 3    arn:aws:iam::123456789012:role/cli/cli-app",
        "summary:    s3://bucket/reports/runs/k.json",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    assert_eq!(Exit::of_summary(&s), Exit::Success);
    assert!(
        !text.contains("accounts:"),
        "one account scanned in full: no table\n{text}"
    );
}

#[test]
fn open_account_names_the_accounts_page_only_of_an_account_read_in_an_organization_run() {
    use crate::commands::open::account_page;
    use last_accessed::domain::input::{AccountSelection, Organization};
    let mut v: serde_json::Value = fixture(include_str!("testdata/summary.json"));
    v["accounts"] = serde_json::json!([
        {"id": "111111111111", "name": "prod", "ou_path": "r-ab12", "status": "SUCCEEDED",
         "principals": 2, "reports_written": 2, "services_granted": 3, "services_used": 1, "services_unused": 2},
        {"id": "222222222222", "name": "sandbox", "ou_path": "r-ab12", "status": "UNREACHABLE",
         "error": "cannot assume the member role: AccessDenied",
         "principals": 0, "reports_written": 0, "services_granted": 0, "services_used": 0, "services_unused": 0}
    ]);
    let mut s: RunSummary = serde_json::from_value(v).expect("summary");
    let refused = account_page("2026-11-25", "r1", "111111111111", &s).unwrap_err();
    assert_eq!(refused.exit, Exit::Usage);
    assert!(
        refused
            .message
            .contains("its page is the run's (ila open r1)"),
        "{}",
        refused.message
    );
    s.parameters.organization = Some(Organization {
        selection: AccountSelection::All,
        exclude: Vec::new(),
        member_role: "iam-last-accessed-member".into(),
        max_accounts_in_parallel: 10,
        access_report: false,
        access_report_timeout_seconds: 3600,
    });
    assert_eq!(
        account_page("2026-11-25", "r1", "111111111111", &s).unwrap(),
        "reports/runs/dt=2026-11-25/run=r1/accounts/111111111111.html"
    );
    let unread = account_page("2026-11-25", "r1", "222222222222", &s).unwrap_err();
    assert_eq!(unread.exit, Exit::Failed);
    assert!(
        unread.message.contains("cannot assume the member role"),
        "{}",
        unread.message
    );
    let unknown = account_page("2026-11-25", "r1", "333333333333", &s).unwrap_err();
    assert_eq!(unknown.exit, Exit::Usage);
    assert!(
        unknown.message.contains("111111111111, 222222222222"),
        "{}",
        unknown.message
    );
}

#[test]
fn summary_text_of_an_organization_run_has_a_line_per_account() {
    let mut v: serde_json::Value = fixture(include_str!("testdata/summary.json"));
    v["status"] = "INCOMPLETE".into();
    v["account_counts"] = serde_json::json!({"SUCCEEDED": 1, "UNREACHABLE": 1});
    v["accounts"] = serde_json::json!([
        {"id": "111111111111", "name": "prod", "ou_path": "r-ab12/ou-ab12-11111111", "status": "SUCCEEDED",
         "principals": 2, "reports_written": 2, "services_granted": 3, "services_used": 1, "services_unused": 2},
        {"id": "222222222222", "name": "sandbox", "ou_path": "r-ab12", "status": "UNREACHABLE",
         "error": "cannot assume arn:aws:iam::222222222222:role/iam-last-accessed-member: AccessDenied",
         "principals": 0, "reports_written": 0, "services_granted": 0, "services_used": 0, "services_unused": 0}
    ]);
    let s: RunSummary = serde_json::from_value(v).expect("summary");
    let text = summary_text(&s, "bucket", "reports/runs/k.json");
    assert!(
        text.contains("accounts:   1 SUCCEEDED, 1 UNREACHABLE"),
        "{text}"
    );
    let line = |id: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("no line for {id} in\n{text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        line("111111111111"),
        [
            "111111111111",
            "SUCCEEDED",
            "2",
            "3",
            "1",
            "2",
            "prod",
            "r-ab12/ou-ab12-11111111"
        ]
    );
    let unreachable = line("222222222222");
    assert_eq!(unreachable[1], "UNREACHABLE");
    assert!(unreachable
        .join(" ")
        .ends_with("role/iam-last-accessed-member: AccessDenied"));
    assert_eq!(Exit::of_summary(&s), Exit::Failed);
}

#[test]
fn report_table() {
    let r: PrincipalReport = fixture(include_str!("testdata/report.json"));
    let text = report::render(&r, "bucket", "reports/principals/k.json");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "role cli-app (arn:aws:iam::123456789012:role/cli/cli-app)"
    );
    assert_eq!(
        lines[2],
        "3 services granted: 1 active, 1 stale, 1 never used"
    );
    let header = lines.iter().position(|l| l.starts_with("SERVICE")).unwrap();
    let row = |prefix: &str| -> Vec<&str> {
        lines[header..]
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row {prefix:?} in\n{text}"))
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    };
    assert_eq!(row("s3 ")[..3], ["s3", "active", "2026-11-01T00:00:00Z"]);
    assert_eq!(row("ec2 ")[1], "stale");
    assert_eq!(row("sqs ")[..3], ["sqs", "never used", "-"]);
    assert_eq!(row("  s3:PutObject")[..2], ["s3:PutObject", "never used"]);
}

#[test]
fn runs_table() {
    let rows = vec![runs::RunRow {
        run_id: "r2".into(),
        status: "SUCCEEDED".into(),
        started_at: "2026-11-25T17:00:00Z".into(),
        stopped_at: Some("2026-11-25T17:00:06Z".into()),
        execution_arn: "arn".into(),
        summary: Some(runs::SummaryCounts {
            status: "SUCCEEDED".into(),
            principals_planned: 3,
            reports_written: 3,
            services_unused: 7,
            key: "k".into(),
        }),
    }];
    let text = runs::render(&rows);
    assert_eq!(
        text,
        "RUN  STATUS     STARTED               TOOK  REPORTED  UNUSED SERVICES  SUMMARY\n\
         r2   SUCCEEDED  2026-11-25T17:00:00Z  6 s   3/3       7                SUCCEEDED\n"
    );
    assert!(runs::render(&[]).starts_with("no runs yet"));
}

fn indexed(
    arn: &str,
    status: &str,
    services: serde_json::Value,
) -> last_accessed::domain::outcome::PrincipalOutcome {
    fixture(
        &serde_json::json!({
            "arn": arn, "type": "role", "status": status, "report_key": format!("k/{arn}"),
            "services_granted": 0, "services_active": 0, "services_stale": 0,
            "services_never_used": 0, "services": services
        })
        .to_string(),
    )
}

#[test]
fn diff_compares_two_indexes() {
    use crate::commands::diff;
    let role = |n: &str| format!("arn:aws:iam::123456789012:role/{n}");
    let before = [
        indexed(
            &role("keep"),
            "COMPLETED",
            serde_json::json!([
            {"ns": "s3", "class": "active", "days": 3},
            {"ns": "sqs", "class": "active", "days": 85},
            {"ns": "ec2", "class": "never_used", "days": null}]),
        ),
        indexed(&role("gone"), "COMPLETED", serde_json::json!([])),
        indexed(
            &role("same"),
            "COMPLETED",
            serde_json::json!([{"ns": "s3", "class": "stale", "days": 100}]),
        ),
        indexed(&role("failed"), "COMPLETED", serde_json::json!([])),
    ];
    let now = [
        indexed(
            &role("keep"),
            "COMPLETED",
            serde_json::json!([
            {"ns": "s3", "class": "active", "days": 13},
            {"ns": "sqs", "class": "stale", "days": 95},
            {"ns": "ec2", "class": "active", "days": 1},
            {"ns": "dynamodb", "class": "never_used", "days": null}]),
        ),
        indexed(
            &role("same"),
            "COMPLETED",
            serde_json::json!([{"ns": "s3", "class": "stale", "days": 110}]),
        ),
        indexed(&role("failed"), "FAILED", serde_json::json!([])),
        indexed(&role("new"), "COMPLETED", serde_json::json!([])),
    ];
    let d = diff::compare("r2", "r1", &before, &now, &Default::default());
    assert_eq!(d.new, [role("new")]);
    assert_eq!(d.gone, [role("gone")]);
    assert_eq!(d.not_compared, [role("failed")]);
    assert_eq!(d.unchanged, 1);
    assert_eq!(d.changed.len(), 1);
    let keep = &d.changed[0].services;
    assert_eq!(
        (keep.newly_used.as_slice(), keep.newly_stale.as_slice()),
        (&["ec2".to_string()][..], &["sqs".to_string()][..])
    );
    assert_eq!(keep.granted_added, ["dynamodb"]);
    let text = diff::render(&d);
    for expected in [
        "run r2 against r1",
        "1 new, 1 gone, 1 changed, 1 unchanged, 1 not compared",
        "  changed arn:aws:iam::123456789012:role/keep",
        "    newly used       ec2",
        "    newly stale      sqs",
        "    granted added    dynamodb",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    // The account was not read by one of the runs: its principals are neither new nor
    // gone, only not compared.
    let unread = ["123456789012".to_string()].into();
    let d = diff::compare("r2", "r1", &before, &now, &unread);
    assert!(d.new.is_empty() && d.gone.is_empty(), "{d:?}");
    assert_eq!(d.not_compared, [role("gone"), role("failed"), role("new")]);
}

#[test]
fn diff_tells_a_re_created_principal_by_its_unique_id() {
    use crate::commands::diff;
    let role = |n: &str| format!("arn:aws:iam::123456789012:role/{n}");
    let with_id = |name: &str, id: Option<&str>| {
        let mut o = indexed(
            &role(name),
            "COMPLETED",
            serde_json::json!([{"ns": "s3", "class": "stale", "days": 100}]),
        );
        o.principal_id = id.map(str::to_string);
        o
    };
    let before = [
        with_id("replaced", Some("AROAOLD0000000000000")),
        with_id("kept", Some("AROAKEPT000000000000")),
        with_id("untold", None),
    ];
    let now = [
        with_id("replaced", Some("AROANEW0000000000000")),
        with_id("kept", Some("AROAKEPT000000000000")),
        with_id("untold", Some("AROAUNTOLD0000000000")),
    ];
    let d = diff::compare("r2", "r1", &before, &now, &Default::default());
    assert_eq!(
        (d.new.as_slice(), d.recreated.as_slice()),
        (&[role("replaced")][..], &[role("replaced")][..])
    );
    assert_eq!(
        d.unchanged, 2,
        "same id, or an index without one: compared by ARN"
    );
    let text = diff::render(&d);
    for expected in [
        "1 new (1 re-created), 0 gone, 0 changed, 2 unchanged",
        "  new     arn:aws:iam::123456789012:role/replaced (re-created: another unique id)",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
}

#[test]
fn recommendations_show_a_line_diff() {
    use crate::commands::recommendations::line_diff;
    let lines = |t: &str| t.lines().map(str::to_string).collect::<Vec<_>>();
    let before = lines("{\n  \"Action\": [\n    \"s3:*\",\n    \"ec2:*\"\n  ]\n}");
    let after = lines("{\n  \"Action\": [\n    \"s3:*\"\n  ]\n}");
    assert_eq!(
        line_diff(&before, &after),
        [
            "  {",
            "    \"Action\": [",
            "-     \"s3:*\",",
            "-     \"ec2:*\"",
            "+     \"s3:*\"",
            "    ]",
            "  }"
        ]
    );
    assert!(line_diff(&[], &after).iter().all(|l| l.starts_with('+')));
}

#[test]
fn recommendations_take_iac_beside_write() {
    use crate::iac::Format;
    for (flag, format) in [
        ("terraform", Format::Terraform),
        ("cloudformation", Format::Cloudformation),
    ] {
        let cli = parse(&["recommendations", "r1", "--iac", flag, "--write", "out"]).unwrap();
        let Command::Recommendations(r) = cli.command else {
            panic!("not recommendations")
        };
        assert_eq!(
            (r.iac, r.write.as_deref()),
            (Some(format), Some(std::path::Path::new("out")))
        );
    }
    let Command::Recommendations(plain) = parse(&["recommendations", "r1"]).unwrap().command else {
        panic!("not recommendations")
    };
    assert_eq!(plain.iac, None, "the diff stays the default");
    let err = parse(&["recommendations", "r1", "--iac", "pulumi"]).unwrap_err();
    assert_eq!((err.kind(), err.exit_code()), (ErrorKind::InvalidValue, 2));
    assert!(
        err.to_string().contains("terraform, cloudformation"),
        "{err}"
    );
}
