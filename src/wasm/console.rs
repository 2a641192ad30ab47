//! The core's warnings and errors on the JS console (`console.warn`,
//! `console.error`): a failed fetch or store is visible in Node, Deno, Bun and
//! Workers logs. Nothing below `Warn` is forwarded, and the core logs nothing on
//! a cache hit. Its texts are already scrubbed of secrets and tokens.

use log::{Level, LevelFilter, Log, Metadata, Record};
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

struct Console;

static CONSOLE: Console = Console;

impl Log for Console {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= Level::Warn && metadata.target().starts_with("tokenwell")
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        if record.level() == Level::Error {
            console_error(&message);
        } else {
            console_warn(&message);
        }
    }

    fn flush(&self) {}
}

/// Makes the console the `log` facade's logger, at `Warn`: once per module
/// instance (later calls find it set and do nothing).
pub(crate) fn install() {
    if log::set_logger(&CONSOLE).is_ok() {
        log::set_max_level(LevelFilter::Warn);
    }
}
