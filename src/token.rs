//! The token handed to callers: cheap to clone, never printed.

use std::fmt;
use std::sync::Arc;

use crate::secret::Secret;

/// An access token with what callers need to use it. Cloning is a reference-count
/// increment; `Debug` redacts the token.
#[derive(Clone)]
pub struct AccessToken(Arc<Inner>);

struct Inner {
    token: Secret,
    header: Secret,
    token_type: String,
    scope: Option<String>,
    expires_at_unix_ms: i64,
}

impl AccessToken {
    /// A token as issued.
    pub fn new(
        token: Secret,
        token_type: String,
        scope: Option<String>,
        expires_at_unix_ms: i64,
    ) -> Self {
        let header = Secret::from(format!("{token_type} {}", token.expose()));
        AccessToken(Arc::new(Inner {
            token,
            header,
            token_type,
            scope,
            expires_at_unix_ms,
        }))
    }

    /// The access token itself.
    pub fn secret(&self) -> &str {
        self.0.token.expose()
    }

    /// The token as a [`Secret`].
    pub fn as_secret(&self) -> &Secret {
        &self.0.token
    }

    /// The `Authorization` header value, e.g. `Bearer eyJ…` (built once per token).
    pub fn authorization_header(&self) -> &str {
        self.0.header.expose()
    }

    /// `Bearer` unless the server said otherwise.
    pub fn token_type(&self) -> &str {
        &self.0.token_type
    }

    /// The granted scope, if the server reported it.
    pub fn scope(&self) -> Option<&str> {
        self.0.scope.as_deref()
    }

    /// When the server considers the token expired, as Unix ms on the local clock.
    pub fn expires_at_unix_ms(&self) -> i64 {
        self.0.expires_at_unix_ms
    }
}

impl PartialEq for AccessToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.token == other.0.token
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &self.0.token)
            .field("token_type", &self.0.token_type)
            .field("scope", &self.0.scope)
            .field("expires_at_unix_ms", &self.0.expires_at_unix_ms)
            .finish()
    }
}
