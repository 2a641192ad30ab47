//! The core's error table: the policy it encodes (which kinds are credential
//! errors, which are retryable), the naming rule the bindings rely on, the
//! exported records, and the docs that list every code.

use std::collections::BTreeSet;

use tokenwell::{Error, ErrorKind};

const RETRYABLE: [&str; 4] = ["rate_limited", "server_error", "network", "timeout"];
const CREDENTIAL: [&str; 8] = [
    "invalid_client",
    "invalid_grant",
    "invalid_scope",
    "invalid_request",
    "unauthorized_client",
    "unsupported_grant_type",
    "access_denied",
    "config",
];

fn codes_where(pred: impl Fn(ErrorKind) -> bool) -> BTreeSet<&'static str> {
    ErrorKind::ALL
        .iter()
        .filter(|k| pred(**k))
        .map(|k| k.code())
        .collect()
}

#[test]
fn retryable_and_credential_kinds_are_the_documented_ones() {
    assert_eq!(
        codes_where(ErrorKind::is_retryable),
        RETRYABLE.into_iter().collect()
    );
    assert_eq!(
        codes_where(ErrorKind::is_credential_error),
        CREDENTIAL.into_iter().collect()
    );
    let error = Error::new(ErrorKind::Timeout, "slow");
    assert!(error.is_retryable() && !error.is_credential_error());
}

#[test]
fn codes_are_unique_and_each_is_its_kind_name_in_snake_case() {
    // JS reads the codes from the kind names wasm-bindgen exports, Kotlin's
    // generated enum constants are the same names: both rely on this rule.
    let codes: BTreeSet<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(codes.len(), ErrorKind::ALL.len());
    for kind in ErrorKind::ALL {
        let mut snake = String::new();
        for (i, c) in format!("{kind:?}").chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        }
        assert_eq!(kind.code(), snake);
        assert_eq!(kind.to_string(), kind.code());
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::json!(kind.code())
        );
    }
}

/// The text of the Markdown section that starts with `heading`.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let rest = &doc[start + heading.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_docs_name_every_code_and_its_flags() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (file, heading) in [
        ("README.md", "\n## Errors"),
        ("tests/vectors/README.md", "\n## Error codes"),
    ] {
        let doc = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        let text = section(&doc, heading);
        for kind in ErrorKind::ALL {
            // One table row per code: | `code` | credential | retryable | …
            let row = text
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", kind.code())))
                .unwrap_or_else(|| panic!("{file} {heading:?} has no row for {}", kind.code()));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let yes = |b: bool| if b { "yes" } else { "" };
            assert_eq!(
                (cells[2], cells[3]),
                (yes(kind.is_credential_error()), yes(kind.is_retryable())),
                "{file}: the row of {} disagrees with the core",
                kind.code()
            );
        }
    }
}

#[cfg(feature = "ffi")]
mod ffi {
    use tokenwell::native::ffi::{error_kinds, TokenwellError};
    use tokenwell::{Error, ErrorKind};

    #[test]
    fn the_exported_table_is_the_core_s() {
        let table = error_kinds();
        assert_eq!(table.len(), ErrorKind::ALL.len());
        for (row, kind) in table.iter().zip(ErrorKind::ALL) {
            assert_eq!(row.kind, kind);
            assert_eq!(row.code, kind.code());
            assert_eq!(row.is_credential_error, kind.is_credential_error());
            assert_eq!(row.is_retryable, kind.is_retryable());
        }
    }

    #[test]
    fn an_error_crosses_with_its_kind_and_fields() {
        for kind in ErrorKind::ALL {
            let error = Error::new(kind, "what happened")
                .with_status(418)
                .with_retry_after_ms(Some(1500));
            let TokenwellError::Failure {
                kind: crossed,
                status,
                retry_after_ms,
                detail,
                summary,
            } = TokenwellError::from(error.clone());
            assert_eq!(crossed, kind);
            assert_eq!((status, retry_after_ms), (Some(418), Some(1500)));
            assert_eq!(detail, "what happened");
            assert_eq!(summary, error.to_string());
        }
    }
}
