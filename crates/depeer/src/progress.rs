//! The progress bar on stderr (only when stderr is a terminal): the
//! binary's [`depeer_ingest::Progress`].

use std::io::IsTerminal;

/// A bar over the input bytes that also shows a count of records; does
/// nothing when disabled or when stderr is not a terminal.
#[derive(Debug, Clone)]
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
    unit: &'static str,
}

impl Bar {
    /// A bar counting `unit` (e.g. `messages`), shown if `enabled`.
    pub fn new(enabled: bool, unit: &'static str) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Bar { bar, unit }
    }
}

impl depeer_ingest::Progress for Bar {
    fn start(&self, total_bytes: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total_bytes);
            b.enable_steady_tick(std::time::Duration::from_millis(200));
        }
    }

    fn add_bytes(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    fn set_count(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.set_message(format!("{n} {}", self.unit));
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
