//! `ila stop RUN` (the built binary) on a scan whose batches are running: the execution and
//! every Map Run of it end ABORTED, no function invocation of the run starts after the
//! stop, and once the invocations in flight have returned the emulator's IAM call counts
//! stop growing. A finished or unknown run is a sentence and exit 1.

use e2e::{assert_has, ila, ila_json, ila_ok, text, unique, Stack};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const ROLES: usize = 120;

/// Polls `check` every 200 ms until it returns `Some`, for at most `seconds`.
async fn wait_for<T>(what: &str, seconds: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {seconds} s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn invocations(stack: &Stack, execution_arn: &str) -> Vec<Value> {
    let all = stack.control(
        "GET",
        &format!("/moto-api/iam-access-advisor/invocations?execution={execution_arn}"),
        &Value::Null,
    );
    all["invocations"][execution_arn]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn at(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().expect("a time"), &Rfc3339).expect("RFC 3339")
}

fn iam_calls(stack: &Stack) -> Value {
    stack.stats()["by_account"][e2e::ACCOUNT]["calls"].clone()
}

#[tokio::test]
async fn ila_stop_stops_a_run_whose_batches_are_running() {
    let stack = Stack::from_env().await;
    // jobs take 2 s and each batch of 10 makes its IAM calls at 2 a second: the 12 batches,
    // 4 at a time, would keep the run going for minutes
    stack.configure(json!({"job_seconds": 2.0, "fail": [], "deny": []}));
    let run = unique("stop");
    let path = format!("/e2e/{run}/");
    stack.create_roles(&path, &run, ROLES).await;
    let input = json!({"discover": {"types": ["role"], "path_prefix": path}, "batch_size": 10,
                       "max_concurrency": 4, "iam_requests_per_second": 2,
                       "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 2}});
    let started = stack
        .sfn
        .start_execution()
        .state_machine_arn(&stack.state_machine)
        .name(&run)
        .input(input.to_string())
        .send()
        .await
        .expect("StartExecution");
    let execution = started.execution_arn;

    // the batches are running: four Generate invocations have started
    wait_for("4 batches' Generate invocations", 120, || {
        let generating = invocations(&stack, &execution)
            .iter()
            .filter(|i| i["function"].as_str().unwrap_or("").contains("Generate"))
            .count();
        (generating >= 4).then_some(())
    })
    .await;

    let stopped = ila_json(&["stop", &run]);
    assert_eq!(stopped["run"], run.as_str());
    assert_eq!(stopped["status"], "ABORTED", "{stopped}");
    assert_eq!(stopped["error"], "Stopped");
    // the caller is named: the stack's administrator (`.local/env`'s keys)
    assert_has(
        stopped["cause"].as_str().unwrap(),
        &["stopped with `ila stop` by arn:aws:iam::123456789012:user/local-admin"],
    );

    let d = stack
        .sfn
        .describe_execution()
        .execution_arn(&execution)
        .send()
        .await
        .expect("DescribeExecution");
    assert_eq!(d.status.as_str(), "ABORTED");
    let stop = d.stop_date.expect("an aborted execution has a stop date");
    let stop = OffsetDateTime::from_unix_timestamp_nanos(stop.as_nanos()).expect("a time");

    // the invocations in flight return; none of the run's started after the stop
    // (Step Functions' dates have millisecond precision: 1 ms of slack)
    let ran = wait_for("the invocations in flight to return", 120, || {
        let all = invocations(&stack, &execution);
        all.iter().all(|i| !i["ended"].is_null()).then_some(all)
    })
    .await;
    let latest = ran.iter().map(|i| at(&i["started"])).max().expect("some");
    assert!(
        latest <= stop + Duration::from_millis(1),
        "an invocation started at {latest}, after the stop at {stop}"
    );

    // every Map Run of it (the accounts' and the account's batches') is ABORTED, none running
    let map_runs = stack
        .sfn
        .list_map_runs()
        .execution_arn(&execution)
        .send()
        .await
        .expect("ListMapRuns")
        .map_runs;
    assert!(
        map_runs.len() >= 2,
        "the accounts' and the batches' Map Runs: {map_runs:?}"
    );
    let mut started_children = 0;
    for m in &map_runs {
        let described = stack
            .sfn
            .describe_map_run()
            .map_run_arn(&m.map_run_arn)
            .send()
            .await
            .expect("DescribeMapRun");
        assert_eq!(described.status.as_str(), "ABORTED", "{}", m.map_run_arn);
        let counts = described.execution_counts.expect("execution counts");
        assert_eq!(counts.running, 0, "{}", m.map_run_arn);
        assert!(counts.aborted >= 1, "{}: {counts:?}", m.map_run_arn);
        // every child it started has ended: none is left running or pending
        assert_eq!(
            counts.total,
            counts.aborted + counts.succeeded + counts.failed + counts.timed_out,
            "{}: {counts:?}",
            m.map_run_arn
        );
        started_children += counts.total;
    }
    // the accounts' Map Run started its 1 account; the batches' Map Run started only the
    // batches running (or done) when the stop came, not the 12 it had
    assert!(
        started_children < 1 + 12,
        "the stopped Map Runs went on starting children: {started_children}"
    );

    // IAM is no longer called, nor any function: the counts stay as they are
    let calls = iam_calls(&stack);
    let count = ran.len();
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(iam_calls(&stack), calls, "IAM calls went on after the stop");
    assert_eq!(invocations(&stack, &execution).len(), count);
    // the run never reached Summarize: it has no summary
    let summaries = stack.keys("reports/runs/").await;
    assert!(
        summaries
            .iter()
            .all(|k| !k.contains(&format!("run={run}/"))),
        "a stopped run has no summary"
    );

    // a finished run, and an unknown one: sentences, exit 1
    let again = ila(&["stop", &run]);
    assert_eq!(again.status.code(), Some(1));
    assert_has(
        &text(&again.stderr),
        &[
            "is not running: it ended ABORTED",
            &format!("ila status {run}"),
        ],
    );
    let unknown = ila(&["stop", "no-such-run-e2e"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_has(
        &text(&unknown.stderr),
        &["no run named \"no-such-run-e2e\""],
    );
    assert_has(
        &ila_ok(&["status", &run], 1),
        &[
            "status    ABORTED",
            "error     Stopped",
            "by arn:aws:iam::123456789012:user/local-admin",
        ],
    );
}
