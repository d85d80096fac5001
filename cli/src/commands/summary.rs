//! `ila summary RUN` (or `--key KEY`): the run summary Summarize wrote, for people.

use crate::failure::{Exit, Result};
use crate::format::summary_text;
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The run id (the execution's name); its summary is found under reports/runs/.
    #[arg(required_unless_present = "key")]
    pub run: Option<String>,
    /// The summary's S3 key instead of a run id.
    #[arg(long, value_name = "KEY", conflicts_with = "run")]
    pub key: Option<String>,
}

pub async fn summary(stack: &Stack, args: &SummaryArgs, output: Output) -> Result<Exit> {
    let (key, s) = match (&args.key, &args.run) {
        (Some(key), _) => (key.clone(), stack.summary(key).await?),
        (None, Some(run)) => {
            let (key, s) = stack.summary_of(run).await?;
            (key.key, s)
        }
        (None, None) => unreachable!("clap requires RUN or --key"),
    };
    match output {
        Output::Json => print_json(&s),
        Output::Text => print!("{}", summary_text(&s, &stack.store()?.bucket, &key)),
    }
    Ok(Exit::of_summary(&s))
}
