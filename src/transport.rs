//! The only I/O the core asks for: send one HTTP request, read the response.

use crate::error::Result;
use crate::request::HttpRequest;
use crate::response::HttpResponse;
use crate::runtime::MaybeSendSync;

/// Sends a token request. Implementations must not follow redirects (a redirect
/// would resend the secret elsewhere), must enforce the timeouts they were built
/// with, and must stop reading past [`crate::MAX_RESPONSE_BYTES`]
/// (returning [`crate::ErrorKind::ResponseTooLarge`]).
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Transport: MaybeSendSync {
    /// Sends `request` and returns the response, or a
    /// network / timeout / too-large error.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}
