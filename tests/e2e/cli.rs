//! `ila`, the built binary (target/debug/ila, made by `cargo build --workspace
//! --all-targets`), against the local stack: help and usage errors, then a run followed
//! by `status`, `summary`, `runs` and `report` in text and `--output json`, and a reused
//! run name.

use e2e::{allow, assert_has, days_ago, ila, ila_json, ila_ok, text, unique, Stack};
use serde_json::{json, Value};

#[test]
fn cli_help_exits_zero_and_bad_flags_exit_two() {
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["status", "--help"],
        &["summary", "--help"],
        &["runs", "--help"],
        &["report", "--help"],
    ] {
        let stdout = ila_ok(args, 0);
        assert!(stdout.contains("Usage: ila"), "ila {args:?}:\n{stdout}");
    }
    assert_has(
        &ila_ok(&["--help"], 0),
        &["Exit codes:", "run", "status", "summary", "runs", "report"],
    );
    assert_has(
        &ila_ok(&["run", "--help"], 0),
        &["--input", "--arn", "--granularity", "--name", "--no-wait"],
    );
    for args in [
        &["run", "--bogus"][..],
        &["status"],
        &["report", "not-an-arn"],
        &["nope"],
    ] {
        let out = ila(args);
        assert_eq!(out.status.code(), Some(2), "ila {args:?}");
        assert!(
            text(&out.stderr).starts_with("error: "),
            "ila {args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[tokio::test]
async fn cli_runs_a_scan_and_reads_it_back() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": []}));
    let run = unique("cli");
    let arn = stack
        .create_role(
            &format!("/e2e/{run}/"),
            &format!("{run}-app"),
            allow(&["s3:GetObject", "sqs:SendMessage"]),
        )
        .await;
    stack.seed_activity(json!([
        {"entity": arn, "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": days_ago(3)}
    ]));

    // run: follows the run (plain lines: stdout is a pipe) and prints the summary.
    let stdout = ila_ok(&["run", "--arn", &arn, "--name", &run], 0);
    assert_has(
        &stdout,
        &[
            &format!("started run {run}"),
            "SUCCEEDED: batches 1 of 1 succeeded (1 principals)",
            &format!("run {run} — SUCCEEDED"),
            "principals: 1 planned, 1 reported (1 role)",
            "services:   2 granted: 1 active, 0 stale (90+ days), 1 never used",
            "reports/runs/dt=",
        ],
    );

    // The same name again: a sentence, not the SDK's debug dump; exit 2.
    let again = ila(&["run", "--arn", &arn, "--name", &run]);
    let stderr = text(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{stderr}");
    assert_has(
        &stderr,
        &[
            &format!("error: a run named \"{run}\" already exists"),
            "StartExecution failed: ExecutionAlreadyExists",
            "Pick another --name",
        ],
    );
    assert!(
        !stderr.contains("Extensions") && !stderr.contains("{ "),
        "{stderr}"
    );

    let status = ila_ok(&["status", &run], 0);
    assert_has(
        &status,
        &[
            &format!("run       {run}"),
            "status    SUCCEEDED",
            "batches   1 of 1 succeeded",
        ],
    );
    let status = ila_json(&["status", &run]);
    assert_eq!(status["status"], "SUCCEEDED");
    assert_eq!(status["batches"]["succeeded"], 1);
    assert_eq!(status["error"], Value::Null);

    let summary = ila_ok(&["summary", &run], 0);
    assert_has(
        &summary,
        &[
            "principals: 1 planned, 1 reported (1 role)",
            &format!("     1 of 2    {arn}"),
        ],
    );
    let summary = ila_json(&["summary", &run]);
    assert_eq!(summary["run_id"], run.as_str());
    assert_eq!(summary["status"], "SUCCEEDED");
    assert_eq!(summary["counts"]["reports_written"], 1);

    let runs = ila_ok(&["runs"], 0);
    let row = runs
        .lines()
        .find(|l| l.starts_with(&format!("{run} ")))
        .unwrap_or_else(|| panic!("no row for {run} in:\n{runs}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "SUCCEEDED", "{row}");
    assert!(cells.contains(&"1/1"), "{row}");
    let runs = ila_json(&["runs"]);
    let listed = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == run.as_str())
        .expect("the run is listed");
    assert_eq!(listed["summary"]["reports_written"], 1);

    let report = ila_ok(&["report", &arn, "--run", &run], 0);
    assert_has(
        &report,
        &[
            &format!("role {run}-app ({arn})"),
            "2 services granted: 1 active, 0 stale, 1 never used",
        ],
    );
    let s3 = report
        .lines()
        .find(|l| l.starts_with("s3 "))
        .expect("an s3 row");
    assert_has(s3, &["active", "eu-west-1"]);
    let sqs = report
        .lines()
        .find(|l| l.starts_with("sqs "))
        .expect("an sqs row");
    assert_has(sqs, &["never used"]);
    let report = ila_json(&["report", &arn, "--run", &run]);
    assert_eq!(report["arn"], arn.as_str());
    assert_eq!(report["run_id"], run.as_str());

    // A second run through --output json; `report` without --run picks it (the newest).
    let second = format!("{run}-2");
    let outcome = ila_json(&["run", "--arn", &arn, "--name", &second]);
    assert_eq!(outcome["status"], "SUCCEEDED");
    assert_eq!(outcome["summary"]["counts"]["reports_written"], 1);
    assert!(outcome["summary_key"]
        .as_str()
        .unwrap()
        .ends_with(&format!("run={second}/summary.json")));
    assert_eq!(ila_json(&["report", &arn])["run_id"], second.as_str());

    // What does not exist: exit 1 with a sentence.
    let missing = ila(&["status", &format!("{run}-never")]);
    assert_eq!(missing.status.code(), Some(1));
    assert_has(
        &text(&missing.stderr),
        &["no run named", "`ila runs` lists the recent runs"],
    );
}
