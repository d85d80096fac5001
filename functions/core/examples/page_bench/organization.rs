//! `page_bench --accounts A`: the pages of an Organization run, built as Summarize
//! builds them (an overview that keeps no principal, a page per account read).

use super::{closing, plan, Args, BATCH};
use last_accessed::domain::account::{AccountItem, AccountRecord, AccountRun, AccountState};
use last_accessed::domain::arn::PrincipalType;
use last_accessed::domain::keys;
use last_accessed::domain::outcome::{BatchResult, PrincipalOutcome};
use last_accessed::domain::page::{self, PageBuilder, PageHead};
use last_accessed::domain::sfn::StepFunctionsError;
use last_accessed::domain::summary::{summarize, RunFold, RunRecords};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// The account the incomplete one is (its batches Map failed), by position.
const INCOMPLETE: usize = 1;

fn account_id(k: usize) -> String {
    format!("{:012}", 210_000_000_000u64 + k as u64)
}

/// Why the last account is unreachable: STS's refusal, as Plan records it.
fn unreachable_reason(id: &str) -> String {
    format!(
        "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/iam-last-accessed-plan/plan \
         is not authorized to perform: sts:AssumeRole on resource: \
         arn:aws:iam::{id}:role/iam-last-accessed-member"
    )
}

/// The principal `o` (the `i`th) as one of account `id`'s: its ARN and report key in that
/// account; every 97th an AWS-managed policy (its ARN names `aws`).
fn place(o: &mut PrincipalOutcome, i: usize, id: &str) {
    if i % 97 == 3 {
        o.arn = format!("arn:aws:iam::aws:policy/ManagedPolicy{i:05}");
        o.principal_type = PrincipalType::AwsManagedPolicy;
    } else {
        o.arn = o.arn.replacen("123456789012", id, 1);
    }
    o.account = id.to_string();
    let name = o
        .arn
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .replace('/', "_");
    o.report_key =
        format!("reports/principals/dt=2026-11-25/run=bench-run/account={id}/{name}.json");
}

/// Account `k` of `n` as Summarize reads it: its item, Plan's record, its failure.
fn account_run(k: usize, n: usize, first_batch: u32, principals: usize) -> AccountRun {
    let id = account_id(k);
    let item: AccountItem = serde_json::from_value(json!({
        "id": id,
        "name": format!("workload-{k:04}"),
        "status": "ACTIVE",
        "ou_path": format!("r-ab12/ou-ab12-{:08}", k % 7),
        "role_arn": format!("arn:aws:iam::{id}:role/iam-last-accessed-member"),
        "first_batch": first_batch,
        "probe": true,
    }))
    .expect("an account item");
    if k == n - 1 {
        let why = unreachable_reason(&id);
        return AccountRun {
            record: Some(AccountRecord::unreachable(item.clone(), why, BATCH as u32)),
            item,
            failure: None,
        };
    }
    let record = AccountRecord {
        item: item.clone(),
        state: AccountState::Planned,
        error: None,
        principals: principals as u32,
        batches: principals.div_ceil(BATCH) as u32,
        batch_size: BATCH as u32,
        skipped: Vec::new(),
        carry: None,
    };
    let failure = (k == INCOMPLETE).then(|| StepFunctionsError {
        error: Some("States.ExceedToleratedFailureThreshold".into()),
        cause: Some("The batches' Map failed: too many of its batches failed".into()),
    });
    AccountRun {
        item,
        record: Some(record),
        failure,
    }
}

/// Each account's principals, batched (batch indices unique across the run), and the
/// accounts: the last one unreachable, none of its principals read.
fn spread(n: usize, outcomes: Vec<PrincipalOutcome>) -> (Vec<Vec<BatchResult>>, Vec<AccountRun>) {
    let reachable = n - 1;
    let mut by_account: Vec<Vec<PrincipalOutcome>> = vec![Vec::new(); n];
    for (i, mut o) in outcomes.into_iter().enumerate() {
        let k = i % reachable;
        place(&mut o, i, &account_id(k));
        by_account[k].push(o);
    }
    let mut next = 0u32;
    let mut batches = Vec::with_capacity(n);
    let mut runs = Vec::with_capacity(n);
    for (k, principals) in by_account.into_iter().enumerate() {
        runs.push(account_run(k, n, next, principals.len()));
        let results: Vec<BatchResult> = principals
            .chunks(BATCH)
            .map(|chunk| {
                next += 1;
                BatchResult {
                    job_binding: None,
                    index: next - 1,
                    principals: chunk.to_vec(),
                }
            })
            .collect();
        batches.push(results);
    }
    (batches, runs)
}

pub(super) fn run(args: &Args, outcomes: Vec<PrincipalOutcome>) {
    let n = args.accounts;
    assert!(
        n >= 3,
        "--accounts A: at least 3 (one INCOMPLETE, one UNREACHABLE)"
    );
    let (batches, runs) = spread(n, outcomes);
    let n_batches = batches.iter().map(Vec::len).sum();
    let mut plan = plan(args.principals, n_batches, args.recommendations);
    plan.accounts = n as u32;
    let (summary, outcomes) = summarize(
        plan.clone(),
        RunRecords {
            results: batches.iter().flatten().cloned().collect(),
            accounts: runs.clone(),
            ..RunRecords::default()
        },
        closing(),
    );
    let start = Instant::now();
    let index = keys::index_key(&summary.dt, &summary.run_id);
    let mut overview = PageBuilder::new(&summary.as_of, 0);
    outcomes.iter().for_each(|o| overview.add(o));
    let html = page::render_page(&PageHead::of_run(&summary, index.clone(), true), overview);
    let mut pages = Vec::new();
    for (results, account) in batches.iter().zip(&runs).take(n - 1) {
        let mut fold = RunFold::default();
        let mut page = PageBuilder::new(&plan.started_at, page::PAGE_BUDGET_BYTES);
        for r in results {
            r.principals.iter().for_each(|o| page.add(o));
            fold.add_batch(r);
        }
        let line = fold.account_line(account.clone()).expect("its line");
        let batches = account.record.as_ref().map_or(0, |r| r.batches);
        let head = PageHead::of_account(&plan, &closing(), &fold, (line, batches), index.clone());
        pages.push((
            account.item.id.as_str().to_string(),
            page::render_page(&head, page),
        ));
    }
    let took = start.elapsed().as_secs_f64();
    if let Some(out) = &args.out {
        std::fs::write(out, &html).expect("write the overview");
        let dir = Path::new(out)
            .parent()
            .unwrap_or(Path::new("."))
            .join("accounts");
        std::fs::create_dir_all(&dir).expect("make accounts/");
        for (id, page) in &pages {
            std::fs::write(dir.join(format!("{id}.html")), page).expect("write a page");
        }
    }
    println!("principals {}", outcomes.len());
    println!("accounts {n}");
    println!("account_pages {}", pages.len());
    println!("html_bytes {}", html.len());
    println!("html_build_s {took:.3}");
}
