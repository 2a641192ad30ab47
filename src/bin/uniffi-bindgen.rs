//! The uniffi binding generator, pinned to the crate's uniffi version
//! (`cargo run --features bindgen --bin uniffi-bindgen -- generate …`); maturin
//! runs it to generate the Python package's private module.
//!
//! One step after uniffi's, for Python only: the generated module imports
//! asyncio at the top (about 15 ms, a third of `import tokenwell`) although
//! only the async calls use it. The step binds `asyncio` to a stand-in that
//! imports it on first use, so a sync user never loads it. When uniffi's output
//! no longer has the line, generation fails here, and
//! bindings/python/tests/test_import.py fails if `import tokenwell` loads asyncio.
use std::{
    env,
    ffi::OsString,
    fs,
    path::{Path, PathBuf},
    process,
};

const EAGER: &str = "\nimport asyncio\n";
const LAZY: &str = "
class _UniffiLazyAsyncio:
    # tokenwell (src/bin/uniffi-bindgen.rs): asyncio is imported on first use.
    def __getattr__(self, name):
        global asyncio
        import asyncio as module
        asyncio = module
        return getattr(module, name)
asyncio = _UniffiLazyAsyncio()
";

fn main() {
    let python_out_dir = python_out_dir(env::args_os().skip(1).collect());
    uniffi::uniffi_bindgen_main();
    if let Some(dir) = python_out_dir {
        if let Err(message) = make_asyncio_lazy(&dir) {
            eprintln!("uniffi-bindgen (tokenwell): {message}");
            process::exit(1);
        }
    }
}

/// `--out-dir` of a `generate` for Python (`--language python`, `-l python`).
fn python_out_dir(args: Vec<OsString>) -> Option<PathBuf> {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if args.first().map(String::as_str) != Some("generate") {
        return None;
    }
    let value = |long: &str, short: &str| {
        args.iter().enumerate().find_map(|(i, arg)| {
            if arg == long || arg == short {
                args.get(i + 1).cloned()
            } else {
                arg.strip_prefix(&format!("{long}=")).map(str::to_owned)
            }
        })
    };
    let python = args
        .windows(2)
        .any(|w| (w[0] == "--language" || w[0] == "-l") && w[1] == "python")
        || args.iter().any(|a| a == "--language=python");
    python
        .then(|| value("--out-dir", "-o").map(PathBuf::from))
        .flatten()
}

fn make_asyncio_lazy(dir: &Path) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut rewritten = 0;
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.extension().is_none_or(|ext| ext != "py") {
            continue;
        }
        let source =
            fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        if !source.contains(EAGER) {
            continue;
        }
        // Annotations such as `asyncio.BaseEventLoop` must stay unevaluated.
        if !has_future_annotations(&source) {
            return Err(format!(
                "{} lacks `from __future__ import annotations`",
                path.display()
            ));
        }
        fs::write(&path, source.replacen(EAGER, LAZY, 1))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        rewritten += 1;
    }
    if rewritten == 0 {
        return Err(format!(
            "no generated Python module in {} imports asyncio as expected: update the lazy-asyncio step",
            dir.display()
        ));
    }
    Ok(())
}

/// Whether the first import is `from __future__ import annotations`.
fn has_future_annotations(source: &str) -> bool {
    source
        .lines()
        .find(|l| l.starts_with("import ") || l.starts_with("from "))
        .is_some_and(|l| l.trim() == "from __future__ import annotations")
}
