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

#[path = "synthetic/mod.rs"]
mod synthetic;

use last_accessed::domain::input::{PollOptions, ReportOptions};
use last_accessed::domain::outcome::{BatchResult, PrincipalOutcome};
use last_accessed::domain::page;
use last_accessed::domain::run::PlanRecord;
use last_accessed::domain::summary::{summarize, Closing, RunRecords};
use std::time::Instant;
use synthetic::{namespaces, outcome, policies, Rng, AS_OF_TEXT};

const BATCH: usize = 50;

struct Args {
    principals: usize,
    out: Option<String>,
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        principals: 15_500,
        out: None,
        seed: 42,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next();
        match (flag.as_str(), value) {
            ("--principals", Some(v)) => a.principals = v.parse().expect("--principals N"),
            ("--out", Some(v)) => a.out = Some(v),
            ("--seed", Some(v)) => a.seed = v.parse().expect("--seed S"),
            (f, _) => {
                eprintln!("usage: page_bench [--principals N] [--out PATH] [--seed S] ({f}?)");
                std::process::exit(2);
            }
        }
    }
    a
}

fn plan(principals: usize, batches: usize) -> PlanRecord {
    serde_json::from_value(serde_json::json!({
        "run_id": "bench-run",
        "dt": "2026-11-25",
        "started_at": AS_OF_TEXT,
        "granularity": "ACTION_LEVEL",
        "batch_size": BATCH,
        "batch_size_requested": BATCH,
        "max_concurrency": 10,
        "poll": PollOptions::default(),
        "report": ReportOptions { granting_policies: true, ..ReportOptions::default() },
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
    let outcomes: Vec<PrincipalOutcome> = (0..args.principals)
        .map(|i| outcome(&mut rng, i, &all, &policies))
        .collect();
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
        plan(args.principals, n_batches),
        RunRecords {
            results: batches,
            previous_arns: Some(previous_arns),
            ..RunRecords::default()
        },
        Closing {
            finished_at: "2026-11-25T00:42:00Z".into(),
            duration_seconds: 2520,
            reports_prefix: "reports/runs/dt=2026-11-25/run=bench-run/".into(),
            max_failed_percent: 50.0,
        },
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
