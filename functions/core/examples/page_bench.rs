//! How long the run's page takes to build, and how big it is, for a synthetic run.
//!
//! ```text
//! cargo run -p last-accessed --example page_bench -- --principals 15500 --out /tmp/page.html
//! ```
//!
//! Builds `--principals N` outcomes (default 15,500: most with 5–60 services, a few with
//! 300+, mixed classes, some changes, granting policies, a few ACTION_LEVEL actions, one
//! hostile policy name), folds them into the summary as Summarize does, times only
//! `page::render`, writes the page to `--out PATH` (when given) and prints
//! `html_bytes <n>` and `html_build_s <seconds>`. Deterministic (`--seed S` to vary).
//!
//! `--recommendations` gives most reported principals recommendations (some withheld),
//! as a run with `report.recommendations` would. `--accounts A` makes it an
//! Organization run of A accounts (the principals spread over them, a few AWS-managed
//! policies among them; the second account INCOMPLETE, a batch failed; the last
//! UNREACHABLE, its member role refused): `--out` is then the overview (`index.html`)
//! and each account read gets its page in `accounts/ID.html` beside it, as Summarize
//! writes them; `html_bytes` is the overview's, `html_build_s` all pages'.

#[path = "synthetic/mod.rs"]
mod synthetic;

use last_accessed::domain::input::{PollOptions, ReportOptions};
use last_accessed::domain::outcome::{BatchResult, PrincipalOutcome};
use last_accessed::domain::page;
use last_accessed::domain::run::PlanRecord;
use last_accessed::domain::summary::{summarize, Closing, RunRecords};
use std::time::Instant;
use synthetic::{namespaces, outcome, policies, Rng, AS_OF_TEXT};

#[path = "page_bench/organization.rs"]
mod organization;

const BATCH: usize = 50;

struct Args {
    principals: usize,
    out: Option<String>,
    seed: u64,
    recommendations: bool,
    /// An Organization run of this many accounts (0: the stack's own account).
    accounts: usize,
}

fn args() -> Args {
    let mut a = Args {
        principals: 15_500,
        out: None,
        seed: 42,
        recommendations: false,
        accounts: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--recommendations" {
            a.recommendations = true;
            continue;
        }
        let value = it.next();
        match (flag.as_str(), value) {
            ("--principals", Some(v)) => a.principals = v.parse().expect("--principals N"),
            ("--out", Some(v)) => a.out = Some(v),
            ("--seed", Some(v)) => a.seed = v.parse().expect("--seed S"),
            ("--accounts", Some(v)) => a.accounts = v.parse().expect("--accounts A"),
            (f, _) => {
                eprintln!("usage: page_bench [--principals N] [--out PATH] [--seed S] [--recommendations] [--accounts A] ({f}?)");
                std::process::exit(2);
            }
        }
    }
    a
}

fn plan(principals: usize, batches: usize, recommendations: bool) -> PlanRecord {
    serde_json::from_value(serde_json::json!({
        "run_id": "bench-run",
        "dt": "2026-11-25",
        "started_at": AS_OF_TEXT,
        "granularity": "ACTION_LEVEL",
        "batch_size": BATCH,
        "batch_size_requested": BATCH,
        "max_concurrency": 10,
        "poll": PollOptions::default(),
        "report": ReportOptions { granting_policies: true, recommendations, ..ReportOptions::default() },
        "explicit_arns": 0,
        "discover": null,
        "principals": principals,
        "batches": batches,
        "previous_run": {"run_id": "previous-run", "dt": "2026-11-24", "as_of": "2026-11-24T00:00:00Z"},
    }))
    .expect("a plan record")
}

fn main() {
    let args = args();
    let mut rng = Rng(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let all = namespaces();
    let policies = policies();
    let mut outcomes: Vec<PrincipalOutcome> = (0..args.principals)
        .map(|i| outcome(&mut rng, i, &all, &policies))
        .collect();
    if args.recommendations {
        outcomes.iter_mut().enumerate().for_each(recommend);
    }
    if args.accounts > 0 {
        organization::run(&args, outcomes);
        return;
    }
    // Some principals of the previous run are gone.
    let previous_arns: Vec<String> = outcomes
        .iter()
        .map(|o| o.arn.clone())
        .chain(
            (0..args.principals / 100)
                .map(|i| format!("arn:aws:iam::123456789012:role/gone-{i:05}")),
        )
        .collect();
    let batches: Vec<BatchResult> = outcomes
        .chunks(BATCH)
        .enumerate()
        .map(|(index, chunk)| BatchResult {
            job_binding: None,
            index: index as u32,
            principals: chunk.to_vec(),
        })
        .collect();
    let n_batches = batches.len();
    let (summary, outcomes) = summarize(
        plan(args.principals, n_batches, args.recommendations),
        RunRecords {
            results: batches,
            previous_arns: Some(previous_arns),
            ..RunRecords::default()
        },
        closing(),
    );

    let start = Instant::now();
    let html = page::render(&summary, &outcomes);
    let took = start.elapsed().as_secs_f64();

    if let Some(out) = &args.out {
        std::fs::write(out, &html).expect("write the page");
    }
    println!("principals {}", outcomes.len());
    println!("html_bytes {}", html.len());
    println!("html_build_s {took:.3}");
}

fn closing() -> Closing {
    Closing {
        finished_at: "2026-11-25T00:42:00Z".into(),
        duration_seconds: 2520,
        reports_prefix: "reports/runs/dt=2026-11-25/run=bench-run/".into(),
        max_failed_percent: 50.0,
    }
}

/// Recommendations for a reported principal, as Write would count them: one per two
/// unused services (at most 6); every 13th withheld (nothing judged, saying why).
fn recommend((i, o): (usize, &mut PrincipalOutcome)) {
    use last_accessed::domain::job::JobStatus;
    use last_accessed::domain::outcome::Recommended;
    if o.status != JobStatus::Completed {
        return;
    }
    if i % 13 == 0 {
        let why = "service-linked roles are managed by their service".to_string();
        o.recommended = Some(Recommended {
            lines: vec![format!("no recommendation: {why}")],
            withheld: Some(why),
            ..Recommended::default()
        });
        return;
    }
    let n = (o.services_unused() / 2).min(6);
    o.recommended = Some(Recommended {
        recommendations: n,
        services_removable: o.services_unused(),
        lines: (0..n)
            .map(|k| format!("UPDATE_POLICY \"p{k}\" (inline): removes some"))
            .collect(),
        ..Recommended::default()
    });
}
