//! `ila open RUN [--account ID]`: downloads the run's HTML page
//! (`reports/runs/dt=…/run=…/index.html`, self-contained; an Organization run's overview)
//! or one account's (`…/accounts/ID.html`), and prints its path, to open in a browser.

use crate::failure::{self, Exit, Failure, Result};
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use last_accessed::domain::account::AccountStatus;
use last_accessed::domain::keys;
use last_accessed::domain::summary::RunSummary;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The run (the execution's name).
    pub run: String,
    /// Where to write the page; default: the system's temporary directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// An Organization run's page of this account (the run's own page is its overview).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
}

/// The key of `account`'s page, once the summary says the run read it.
pub(crate) fn account_page(
    dt: &str,
    run: &str,
    account: &str,
    summary: &RunSummary,
) -> Result<String> {
    let line = summary.accounts.iter().find(|a| a.id.as_str() == account);
    let known = summary
        .accounts
        .iter()
        .map(|a| a.id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match line {
        None => Err(Failure::new(
            Exit::Usage,
            format!("run {run:?} scanned no account {account:?}; its accounts: {known}"),
        )),
        Some(a) if summary.parameters.organization.is_none() => Err(Failure::new(
            Exit::Usage,
            format!(
                "run {run:?} scanned only account {}: its page is the run's (ila open {run})",
                a.id
            ),
        )),
        Some(a) if a.status == AccountStatus::Unreachable => Err(Failure::new(
            Exit::Failed,
            format!(
                "account {account} was not read in run {run:?}, so it has no page: {}",
                a.error.as_deref().unwrap_or("UNREACHABLE")
            ),
        )),
        Some(_) => Ok(keys::account_page_key(dt, run, account)),
    }
}

pub async fn open(stack: &Stack, args: &OpenArgs, output: Output) -> Result<Exit> {
    let (key, summary) = stack.summary_of(&args.run).await?;
    let (page, name) = match &args.account {
        None => (
            keys::page_key(&key.dt, &key.run),
            format!("ila-{}.html", key.run),
        ),
        Some(id) => (
            account_page(&key.dt, &key.run, id, &summary)?,
            format!("ila-{}-{id}.html", key.run),
        ),
    };
    let html = stack
        .store()?
        .get_bytes_opt(&page)
        .await
        .map_err(failure::store)?
        .ok_or_else(|| match &args.account {
            None => stack.missing_since_2_0(&args.run, &page, "page", ""),
            Some(id) => Failure::new(
                Exit::Failed,
                format!("run {:?} has no page of account {id} ({page}): runs before summary schema 4.0 wrote one page for every account", args.run),
            ),
        })?;
    let dir = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let path = dir.join(name);
    // A fresh file, never through a link someone left at that name.
    let _ = std::fs::remove_file(&path);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &html));
    written.map_err(|e| {
        Failure::new(
            Exit::Failed,
            format!(
                "could not write {}: {e}. Pick another --dir.",
                path.display()
            ),
        )
    })?;
    match output {
        Output::Json => print_json(&json!({"run": key.run, "path": path, "bytes": html.len()})),
        Output::Text => println!("{}", path.display()),
    }
    Ok(Exit::Success)
}
