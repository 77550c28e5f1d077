//! Progress bars on stderr, only when stderr is a terminal.

use std::io::IsTerminal;

/// A cheap, clonable progress handle; does nothing when disabled.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    unit: &'static str,
}

impl Progress {
    /// A bar over `total_bytes` of input that also shows a count of `unit`.
    pub fn new(enabled: bool, total_bytes: u64, unit: &'static str) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total_bytes);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress { bar, unit }
    }

    /// Input bytes done.
    pub fn add_bytes(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Records processed so far.
    pub fn set_count(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.set_message(format!("{n} {}", self.unit));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
