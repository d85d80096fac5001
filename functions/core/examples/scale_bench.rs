//! Summarize at scale, no IAM needed: synthetic work files of `page_bench`'s mix in a
//! bucket, then the real Summarize handler over them, against S3's API (`make
//! bench-scale` points it at a local moto server).
//!
//! ```text
//! scale_bench seed --principals 1000000 --accounts 1000 --run scale-1000000
//! scale_bench summarize --run scale-1000000      # a fresh process: its own peak RSS
//! ```
//!
//! `seed` writes what Plan and Write would have: the plan record, the account list, a
//! record per account and one batch result per 500 principals, spread evenly over the
//! accounts (an Organization run when there is more than one). `summarize` runs
//! `handlers::summarize::handle` once and prints `summarize_s`, `peak_rss_mb` (this
//! process's VmHWM) and `largest_page_bytes` (the largest of the run's pages, read back).
//! The bucket and endpoint come from the environment, as the functions' do
//! (`REPORT_BUCKET`, `AWS_ENDPOINT_URL`, `S3_FORCE_PATH_STYLE`).

#[path = "synthetic/mod.rs"]
mod synthetic;

use last_accessed::adapters::s3::ReportStore;
use last_accessed::domain::input::{PollOptions, ReportOptions};
use last_accessed::domain::keys;
use last_accessed::domain::outcome::{BatchResult, PrincipalOutcome, ServiceCell};
use last_accessed::domain::usage::Usage;
use last_accessed::handlers::summarize;
use last_accessed::runtime::deps::{Dependencies, SummarizeDeps};
use serde_json::json;
use std::time::Instant;
use synthetic::{namespaces, outcome, policies, Rng, AS_OF_TEXT};

const DT: &str = "2026-11-25";

struct Args {
    command: String,
    principals: usize,
    accounts: usize,
    run: String,
    /// Principals a batch (500; the stack's default is 50).
    batch: usize,
    /// Every principal granted every service, never used (`*`), as the memory test's.
    everything: bool,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        command: it.next().unwrap_or_default(),
        principals: 100_000,
        accounts: 100,
        run: "scale-run".into(),
        batch: 500,
        everything: false,
    };
    while let Some(flag) = it.next() {
        let value = it.next();
        match (flag.as_str(), value) {
            ("--principals", Some(v)) => a.principals = v.parse().expect("--principals N"),
            ("--accounts", Some(v)) => a.accounts = v.parse().expect("--accounts A"),
            ("--run", Some(v)) => a.run = v,
            ("--batch", Some(v)) => a.batch = v.parse().expect("--batch B"),
            ("--everything", Some(v)) => a.everything = v == "1",
            (f, _) => usage(f),
        }
    }
    if !matches!(a.command.as_str(), "seed" | "summarize") || a.accounts == 0 {
        usage(&a.command);
    }
    a
}

fn usage(what: &str) -> ! {
    eprintln!(
        "usage: scale_bench seed|summarize [--principals N] [--accounts A] [--run ID] ({what}?)"
    );
    std::process::exit(2);
}

fn account_id(i: usize) -> String {
    format!("{:012}", 100_000_000_000 + i)
}

/// The state machine's input to Summarize.
fn event(run: &str, bucket: &str, accounts: usize) -> serde_json::Value {
    json!({
        "run": {
            "run_id": run, "dt": DT, "started_at": AS_OF_TEXT, "granularity": "SERVICE_LEVEL",
            "poll": PollOptions::default(), "report": ReportOptions::default(),
        },
        "bucket": bucket,
        "accounts_key": keys::accounts_key(run),
        "accounts": accounts,
        "organization": accounts > 1,
        "max_accounts_in_parallel": 10,
        "access_report": false,
    })
}

async fn seed(store: &ReportStore, a: &Args) {
    let organization = (a.accounts > 1).then(|| {
        json!({"selection": "all", "exclude": [], "member_role": "iam-last-accessed-member",
               "max_accounts_in_parallel": 10, "access_report": false})
    });
    let plan = json!({
        "run_id": a.run, "dt": DT, "started_at": AS_OF_TEXT, "granularity": "SERVICE_LEVEL",
        "batch_size": a.batch, "batch_size_requested": a.batch, "max_concurrency": 10,
        "poll": PollOptions::default(), "report": ReportOptions::default(),
        "explicit_arns": 0, "discover": null, "principals": 0, "batches": 0,
        "organization": organization, "accounts": a.accounts,
    });
    store
        .put_json(&keys::plan_key(&a.run), &plan)
        .await
        .expect("plan");
    let (all, policies) = (namespaces(), policies());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut items = Vec::new();
    let mut next_batch = 0u32;
    let mut next_principal = 0usize;
    for i in 0..a.accounts {
        let id = account_id(i);
        let n = a.principals / a.accounts + usize::from(i < a.principals % a.accounts);
        let batches = n.div_ceil(a.batch);
        let item = json!({"id": id, "name": format!("account-{i}"), "status": "ACTIVE",
                          "ou_path": "r-ab12", "first_batch": next_batch, "probe": a.accounts > 1});
        let mut record = item.clone();
        record["state"] = "PLANNED".into();
        record["principals"] = n.into();
        record["batches"] = batches.into();
        record["batch_size"] = a.batch.into();
        store
            .put_json(&keys::account_record_key(&a.run, &id), &record)
            .await
            .expect("account record");
        for b in 0..batches {
            let size = a.batch.min(n - b * a.batch);
            let principals = (0..size)
                .map(|k| {
                    let mut o = outcome(&mut rng, next_principal + k, &all, &policies);
                    o.arn = o.arn.replace("123456789012", &id);
                    o.report_key = o.report_key.replace("123456789012", &id);
                    o.account.clone_from(&id);
                    if a.everything {
                        granted_everything(&mut o, &all);
                    }
                    o
                })
                .collect();
            next_principal += size;
            let result = BatchResult {
                index: next_batch,
                principals,
                job_binding: None,
            };
            store
                .put_json(&keys::result_key(&a.run, next_batch), &result)
                .await
                .expect("batch result");
            next_batch += 1;
        }
        items.push(item);
        if (i + 1) % 10 == 0 || i + 1 == a.accounts {
            eprintln!("seeded {} accounts, {next_principal} principals", i + 1);
        }
    }
    store
        .put_json(&keys::accounts_key(&a.run), &items)
        .await
        .expect("accounts");
}

/// `o` granted every service by one inline `*` policy, and none of them used.
fn granted_everything(o: &mut PrincipalOutcome, all: &[String]) {
    o.services = all
        .iter()
        .map(|ns| ServiceCell {
            ns: ns.clone(),
            class: Usage::NeverUsed,
            days: None,
            last: None,
            policies: vec!["everything (INLINE)".into()],
            actions: Vec::new(),
        })
        .collect();
    o.services_granted = all.len() as u32;
    (o.services_active, o.services_stale) = (0, 0);
    o.services_never_used = all.len() as u32;
    o.recommended = None;
}

/// This process's peak resident set (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn run_summarize(deps: &SummarizeDeps, a: &Args) {
    let accounts = deps
        .store
        .get_json::<Vec<serde_json::Value>>(&keys::accounts_key(&a.run))
        .await
        .expect("a seeded run")
        .len();
    let start = Instant::now();
    let out = summarize::handle(deps, event(&a.run, &deps.store.bucket, accounts)).await;
    let took = start.elapsed().as_secs_f64();
    let out = out.expect("Summarize succeeded");
    let mut pages = vec![keys::page_key(DT, &a.run)];
    if accounts > 1 {
        pages.extend((0..accounts).map(|i| keys::account_page_key(DT, &a.run, &account_id(i))));
    }
    let mut largest = 0;
    for key in pages {
        let head = deps
            .store
            .s3
            .head_object()
            .bucket(&deps.store.bucket)
            .key(&key)
            .send()
            .await;
        largest = largest.max(head.expect("the page").content_length.unwrap_or(0));
    }
    println!("principals {}", out.reports_written);
    println!("summarize_s {took:.1}");
    println!("peak_rss_mb {:.0}", peak_rss_mb());
    println!("largest_page_bytes {largest}");
}

// As the summarize Lambda runs it (functions/summarize/src/main.rs).
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = args();
    let deps = SummarizeDeps::from_env()
        .await
        .expect("REPORT_BUCKET and S3 settings");
    match a.command.as_str() {
        "seed" => seed(&deps.store, &a).await,
        _ => run_summarize(&deps, &a).await,
    }
}
