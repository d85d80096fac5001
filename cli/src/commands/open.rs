//! `ila open RUN`: downloads the run's HTML page (`reports/runs/dt=…/run=…/index.html`,
//! self-contained) and prints its path, to open in a browser.

use crate::failure::{self, Exit, Failure, Result};
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use last_accessed::domain::keys;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The run (the execution's name).
    pub run: String,
    /// Where to write the page; default: the system's temporary directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub async fn open(stack: &Stack, args: &OpenArgs, output: Output) -> Result<Exit> {
    let (key, _) = stack.summary_of(&args.run).await?;
    let page = keys::page_key(&key.dt, &key.run);
    let html = stack
        .store()?
        .get_bytes_opt(&page)
        .await
        .map_err(failure::store)?
        .ok_or_else(|| stack.missing_since_2_0(&args.run, &page, "page", ""))?;
    let dir = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("ila-{}.html", key.run));
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
