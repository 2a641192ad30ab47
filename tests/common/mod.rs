//! What several test binaries share (each includes it with `mod common;`).

use std::sync::Mutex;

/// Every log record of the client (the mock's own are left out: it is the
/// server), at every level, so a test can check that none holds a secret.
pub struct CaptureLog(Mutex<Vec<String>>);

impl CaptureLog {
    /// Installs [`LOGS`] as the process's logger, at every level.
    pub fn install() {
        log::set_logger(&LOGS).expect("the only logger");
        log::set_max_level(log::LevelFilter::Trace);
    }

    /// Forgets the records so far.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    /// The records so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl log::Log for CaptureLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if !record.target().starts_with("tokenwell::mock") {
            let line = format!("{} {} {}", record.level(), record.target(), record.args());
            self.0.lock().unwrap().push(line);
        }
    }
    fn flush(&self) {}
}

/// The one logger of a test binary.
pub static LOGS: CaptureLog = CaptureLog(Mutex::new(Vec::new()));
