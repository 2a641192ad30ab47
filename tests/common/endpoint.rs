//! A token endpoint in this process, as a [`Transport`]: it grants `tok-1`,
//! `tok-2`, … of a set lifetime after a set delay and counts the requests.
//! A test binary includes it with `#[path = "common/endpoint.rs"] mod endpoint;`.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokenwell::HttpRequest;
use tokenwell::HttpResponse;
use tokenwell::{Result, Transport};

/// Grants `tok-N` tokens of `lifetime_s`, after `delay`, counting requests.
pub struct Endpoint {
    count: AtomicUsize,
    delay: Duration,
    lifetime_s: u64,
}

impl Endpoint {
    pub fn new(delay_ms: u64, lifetime_s: u64) -> Arc<Self> {
        Arc::new(Endpoint {
            count: AtomicUsize::new(0),
            delay: Duration::from_millis(delay_ms),
            lifetime_s,
        })
    }

    /// The requests so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Transport for Endpoint {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!(
                r#"{{"access_token":"tok-{n}","expires_in":{}}}"#,
                self.lifetime_s
            )
            .into_bytes(),
        })
    }
}
