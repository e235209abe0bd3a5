//! Progress bars for the long commands (`backup`, `restore`, `backup
//! verify`, `demo`): one bar per stage with its count and ETA, or a
//! spinner when the total is unknown. They go to stderr and only to a
//! terminal (indicatif draws nothing otherwise), so scripts, pipes and CI
//! logs see the results alone.

use std::{sync::Mutex, time::Duration};

use fairgig_core::progress::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one command.
#[derive(Debug)]
pub struct Bars {
    command: &'static str,
    target: fn() -> ProgressDrawTarget,
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Bars on stderr, labelled `command: stage`.
    pub fn new(command: &'static str) -> Self {
        Self { command, target: ProgressDrawTarget::stderr, current: Mutex::new(None) }
    }

    fn with_current(&self, act: impl FnOnce(&mut Option<ProgressBar>)) {
        // A panic elsewhere while drawing must not take the command down.
        let mut current = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        act(&mut current);
    }
}

fn counted() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed}, about {eta} left)")
        .map_or_else(|_| ProgressStyle::default_bar(), |style| style.progress_chars("=> "))
}

fn spinning() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Progress for Bars {
    fn stage(&self, what: &str, total: Option<u64>) {
        let message = format!("{}: {what}", self.command);
        let target = self.target;
        self.with_current(|current| {
            if let Some(done) = current.take() {
                done.finish();
            }
            let bar = match total {
                Some(total) => {
                    ProgressBar::with_draw_target(Some(total), target()).with_style(counted())
                }
                None => {
                    let bar = ProgressBar::with_draw_target(None, target()).with_style(spinning());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                }
            };
            bar.set_message(message);
            *current = Some(bar);
        });
    }

    fn advance(&self, units: u64) {
        self.with_current(|current| {
            if let Some(bar) = current {
                bar.inc(units);
            }
        });
    }

    fn set(&self, done: u64) {
        self.with_current(|current| {
            if let Some(bar) = current {
                bar.set_position(done);
            }
        });
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.with_current(|current| {
            if let Some(done) = current.take() {
                done.finish();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(command: &'static str) -> Bars {
        Bars { command, target: ProgressDrawTarget::hidden, current: Mutex::new(None) }
    }

    fn position(bars: &Bars) -> (Option<u64>, Option<u64>, String) {
        let mut seen = (None, None, String::new());
        bars.with_current(|current| {
            if let Some(bar) = current {
                seen = (Some(bar.position()), bar.length(), bar.message());
            }
        });
        seen
    }

    #[test]
    fn each_stage_counts_from_zero_towards_its_total() {
        let bars = hidden("backup");
        assert_eq!(position(&bars), (None, None, String::new()), "nothing before a stage");
        bars.stage("files", Some(3));
        bars.advance(1);
        bars.advance(1);
        assert_eq!(position(&bars), (Some(2), Some(3), "backup: files".to_owned()));
        bars.stage("checking", Some(10));
        assert_eq!(position(&bars), (Some(0), Some(10), "backup: checking".to_owned()));
        bars.set(7);
        assert_eq!(position(&bars).0, Some(7));
        bars.stage("database", None);
        assert_eq!(position(&bars).1, None, "a spinner has no total");
    }

    #[test]
    fn the_bars_are_drawn_on_a_terminal_only() {
        use std::io::IsTerminal;
        let bars = Bars::new("demo");
        bars.stage("freelancers", Some(2));
        let terminal = std::io::stderr().is_terminal();
        bars.with_current(|current| {
            let hidden = current.as_ref().map(ProgressBar::is_hidden);
            assert_eq!(hidden, Some(!terminal), "stderr is a terminal: {terminal}");
        });
    }
}
