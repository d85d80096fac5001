//! Following a run: a progress bar (indicatif) when stdout is a terminal, one plain line
//! per change otherwise, nothing with `--output json`.

use crate::format::render_batches;
use crate::stack::BatchCounts;
use crate::Output;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How far a run has come.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Plan has not written its record yet.
    Planning,
    /// Planned; the batches' Map has not started.
    Planned { principals: u32, batches: u32 },
    /// The batches so far, from the run's work files.
    Batches {
        counts: BatchCounts,
        principals: Option<u32>,
    },
}

/// One line for a status and phase: "RUNNING: 2 of 3 done: 2 succeeded, 1 running (5 principals)".
pub fn line(status: &str, phase: &Phase) -> String {
    match phase {
        Phase::Planning => format!("{status}: planning"),
        Phase::Planned {
            principals,
            batches,
        } => format!("{status}: planned {principals} principals in {batches} batches"),
        Phase::Batches { counts, principals } => {
            let of = principals
                .map(|p| format!(" ({p} principals)"))
                .unwrap_or_default();
            format!("{status}: batches {}{of}", render_batches(counts))
        }
    }
}

pub enum Progress {
    Bar { bar: ProgressBar, counting: bool },
    Lines { clock: Instant, last: String },
    Quiet,
}

impl Progress {
    pub fn new(output: Output) -> Progress {
        if output == Output::Json {
            Progress::Quiet
        } else if std::io::stdout().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress::Bar {
                bar,
                counting: false,
            }
        } else {
            Progress::Lines {
                clock: Instant::now(),
                last: String::new(),
            }
        }
    }

    pub fn update(&mut self, status: &str, phase: &Phase) {
        match self {
            Progress::Quiet => {}
            Progress::Lines { clock, last } => {
                let now = line(status, phase);
                if now != *last {
                    println!("[{:>5.0} s] {now}", clock.elapsed().as_secs_f64());
                    *last = now;
                }
            }
            Progress::Bar { bar, counting } => {
                let (done, total) = match phase {
                    Phase::Batches { counts, .. } => (counts.done() as u64, counts.total as u64),
                    _ => {
                        bar.set_message(line(status, phase));
                        return;
                    }
                };
                if !*counting {
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} [{elapsed}] {bar:30} {pos}/{len} {msg}",
                        )
                        .expect("template"),
                    );
                    *counting = true;
                }
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(line(status, phase));
            }
        }
    }

    pub fn finish(self) {
        if let Progress::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}
