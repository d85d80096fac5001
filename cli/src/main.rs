//! `ila`: start an iam-last-accessed run from flags or an input file, show progress
//! while it runs, print the summary; exit non-zero when the run failed.

mod progress;
mod summary;

use last_accessed::adapters::s3::ReportStore;
use std::process::ExitCode;

const USAGE: &str =
    "usage: ila run [--input FILE|-] [--arn ARN]... [--granularity SERVICE_LEVEL|ACTION_LEVEL]
               [--name NAME] [--state-machine ARN] [--bucket NAME] [--no-wait]
       ila summary --key KEY [--bucket NAME]

Environment: STATE_MACHINE_ARN, REPORT_BUCKET (see .local/env or the stack outputs),
AWS_ENDPOINT_URL and S3_FORCE_PATH_STYLE=true for a local stack.";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => progress::run(&args[1..]).await,
        Some("summary") => summary::show(&args[1..]).await,
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(true)
        }
        _ => Err(format!("expected a command\n{USAGE}")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Flags shared by the commands.
#[derive(Default)]
pub struct Flags {
    pub input: Option<String>,
    pub arns: Vec<String>,
    pub granularity: Option<String>,
    pub name: Option<String>,
    pub state_machine: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub no_wait: bool,
}

pub fn parse_flags(args: &[String]) -> Result<Flags, String> {
    let mut flags = Flags::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--input" => flags.input = Some(value()?),
            "--arn" => flags.arns.push(value()?),
            "--granularity" => flags.granularity = Some(value()?),
            "--name" => flags.name = Some(value()?),
            "--state-machine" => flags.state_machine = Some(value()?),
            "--bucket" => flags.bucket = Some(value()?),
            "--key" => flags.key = Some(value()?),
            "--no-wait" => flags.no_wait = true,
            other => return Err(format!("unknown flag {other:?}\n{USAGE}")),
        }
    }
    Ok(flags)
}

pub fn setting(flag: Option<String>, env: &str, what: &str) -> Result<String, String> {
    flag.or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
        .ok_or_else(|| format!("no {what}: pass it as a flag or set {env} (`source .local/env` for the local stack)"))
}

/// The Step Functions client and the report bucket (through the core's `ReportStore`).
pub async fn clients(bucket: String) -> (aws_sdk_sfn::Client, ReportStore) {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let path_style = std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true" || v == "1");
    let s3 = aws_sdk_s3::config::Builder::from(&conf)
        .force_path_style(path_style)
        .build();
    (
        aws_sdk_sfn::Client::new(&conf),
        ReportStore::new(aws_sdk_s3::Client::from_conf(s3), bucket),
    )
}
