//! Authorization server metadata (OpenID Connect Discovery, RFC 8414) for the
//! mock's issuers, at both well-known paths:
//! `{issuer}/.well-known/openid-configuration` and
//! `{origin}/.well-known/oauth-authorization-server{issuer's path}`.
//!
//! | issuer | its metadata |
//! | --- | --- |
//! | `{base}/deliverect`, `/bringg`, `/passport` | that route's endpoint, `client_secret_post` |
//! | `{base}/deliveroo` | that route's endpoint, `client_secret_basic` |
//! | `{base}/custom` | `{base}/custom/token`, both secret methods |
//! | `{base}/discovery/foreign` | the metadata of another issuer (`https://foreign.example`) |
//! | `{base}/discovery/rfc8414` | 404 at the OpenID Connect path; served at the RFC 8414 one |
//! | `{base}/discovery/down` | 500 at both paths |
//! | `{base}/discovery/post-only` | `{base}/custom/token`, `client_secret_post` only |
//! | `{base}/discovery/no-methods` | `{base}/custom/token`, no methods list |
//!
//! `{base}` is `http://` and the request's `Host`. A metadata request must be a
//! `GET` without a body or a content type (400 otherwise). Every one is counted
//! (see [`super::MockServer::metadata_requests`]).

use hyper::body::Incoming;
use hyper::{header, Method, Request, StatusCode};
use serde_json::json;

use super::http::{json_response, method_not_allowed, not_found, oauth_error, read_body, Resp};
use super::state::Shared;

const OIDC: &str = "/.well-known/openid-configuration";
const RFC_8414: &str = "/.well-known/oauth-authorization-server";

/// Whether `path` is one of the well-known metadata paths.
pub(crate) fn is_metadata_path(path: &str) -> bool {
    path.ends_with(OIDC) || path.starts_with(RFC_8414)
}

pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_owned();
    shared.lock().metadata.push(path.clone());
    if req.method() != Method::GET {
        return method_not_allowed("GET");
    }
    let has_type = req.headers().contains_key(header::CONTENT_TYPE);
    let base = match req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        Some(host) => format!("http://{host}"),
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "no Host"),
    };
    let bodyless = matches!(read_body(req.into_body(), 1024).await, Ok(body) if body.is_empty());
    if has_type || !bodyless {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a metadata request is a GET without a body or a content type",
        );
    }
    let (issuer_path, oidc_form) = match path.strip_suffix(OIDC) {
        Some(issuer_path) => (issuer_path, true),
        None => (path.strip_prefix(RFC_8414).unwrap_or_default(), false),
    };
    let issuer = format!("{base}{issuer_path}");
    let custom = format!("{base}/custom/token");
    let both = json!(["client_secret_basic", "client_secret_post"]);
    let post = json!(["client_secret_post"]);
    let (token_endpoint, methods) = match issuer_path {
        "/deliverect" => (format!("{base}/deliverect/oauth/token"), post),
        "/bringg" => (format!("{base}/bringg/oauth/token"), post),
        "/passport" => (format!("{base}/passport/api/oauth/token"), post),
        "/deliveroo" => (
            format!("{base}/deliveroo/oauth2/token"),
            json!(["client_secret_basic"]),
        ),
        "/custom" => (custom, both),
        "/discovery/foreign" => {
            let foreign = "https://foreign.example";
            return json_response(
                StatusCode::OK,
                &json!({"issuer": foreign, "token_endpoint": format!("{foreign}/token")}),
            );
        }
        "/discovery/rfc8414" if oidc_form => return not_found(&path),
        "/discovery/rfc8414" => (custom, both),
        "/discovery/down" => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "metadata unavailable",
            )
        }
        "/discovery/post-only" => (custom, post),
        "/discovery/no-methods" => {
            return json_response(
                StatusCode::OK,
                &json!({"issuer": issuer, "token_endpoint": custom}),
            );
        }
        _ => return not_found(&path),
    };
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": issuer,
            "token_endpoint": token_endpoint,
            "token_endpoint_auth_methods_supported": methods,
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["token"],
        }),
    )
}
