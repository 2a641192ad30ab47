//! What several test binaries share (each includes it with `mod common;`).

use std::sync::Mutex;

use serde_json::Value;

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

/// Replaces `{mock}` in every string with the mock's base URL (the vectors'
/// and the fault catalogue's placeholder).
pub fn substitute(v: &Value, base: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("{mock}", base)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, base)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute(x, base)))
                .collect(),
        ),
        other => other.clone(),
    }
}
