//! Golden requests: the exact bytes each preset sends to the real platform URLs.

use tokenwell::profile::Profile;
use tokenwell::request::{build, HttpRequest, MULTIPART_BOUNDARY};
use tokenwell::TokenConfig;

fn request(json: serde_json::Value) -> HttpRequest {
    let config = TokenConfig::from_value(json).expect("valid config");
    let (profile, creds) = Profile::resolve(&config).expect("resolves");
    build(&profile, &creds)
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn body(req: &HttpRequest) -> &str {
    std::str::from_utf8(&req.body).unwrap()
}

#[test]
fn deliverect_staging_and_production() {
    let staging = request(serde_json::json!({
        "provider": "deliverect", "environment": "staging", "client_id": "cid", "client_secret": "s3cr3t"
    }));
    assert_eq!(staging.method, "POST");
    assert_eq!(
        staging.url,
        "https://api.staging.deliverect.com/oauth/token"
    );
    assert_eq!(header(&staging, "content-type"), Some("application/json"));
    assert_eq!(header(&staging, "accept"), Some("application/json"));
    assert_eq!(header(&staging, "authorization"), None);
    assert_eq!(
        body(&staging),
        r#"{"grant_type":"token","client_id":"cid","client_secret":"s3cr3t","audience":"https://api.staging.deliverect.com"}"#
    );

    let production = request(serde_json::json!({
        "provider": "deliverect", "environment": "production", "clientId": "cid", "clientSecret": "s3cr3t",
        "audience": "https://api.deliverect.io", "grantType": "client_credentials"
    }));
    assert_eq!(production.url, "https://api.deliverect.com/oauth/token");
    assert_eq!(
        body(&production),
        r#"{"grant_type":"client_credentials","client_id":"cid","client_secret":"s3cr3t","audience":"https://api.deliverect.io"}"#
    );
}

#[test]
fn bringg_regions_multipart() {
    let eu = request(serde_json::json!({
        "provider": "bringg", "region": "eu", "client_id": "cid", "client_secret": "s3cr3t", "ttl": 900
    }));
    assert_eq!(eu.url, "https://eu2-admin-api.bringg.com/oauth/token");
    let ct = format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}");
    assert_eq!(header(&eu, "content-type"), Some(ct.as_str()));
    let part = |k: &str, v: &str| {
        format!(
            "--{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
    };
    let expected = [
        part("grant_type", "client_credentials"),
        part("client_id", "cid"),
        part("client_secret", "s3cr3t"),
        part("ttl", "900"),
        format!("--{MULTIPART_BOUNDARY}--\r\n"),
    ]
    .concat();
    assert_eq!(body(&eu), expected);

    let us = request(
        serde_json::json!({"provider": "bringg", "region": "us", "client_id": "c", "client_secret": "s"}),
    );
    assert_eq!(us.url, "https://us2-admin-api.bringg.com/oauth/token");
    assert!(!body(&us).contains("ttl"));
}

#[test]
fn passport_needs_a_base_url() {
    let req = request(serde_json::json!({
        "provider": "passport", "base_url": "https://partner.example.com", "client_id": "cid", "client_secret": "s3cr3t"
    }));
    assert_eq!(req.url, "https://partner.example.com/api/oauth/token");
    assert_eq!(header(&req, "accept"), Some("application/json"));
    assert_eq!(header(&req, "content-type"), Some("application/json"));
    assert_eq!(
        body(&req),
        r#"{"grant_type":"client_credentials","client_id":"cid","client_secret":"s3cr3t"}"#
    );
    let missing = TokenConfig::from_value(
        serde_json::json!({"provider": "passport", "client_id": "c", "client_secret": "s"}),
    )
    .and_then(|c| Profile::resolve(&c));
    assert_eq!(missing.unwrap_err().code(), "config");
}

#[test]
fn deliveroo_basic_and_form() {
    let sandbox = request(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox", "client_id": "cid", "client_secret": "s3cr3t"
    }));
    assert_eq!(
        sandbox.url,
        "https://auth-sandbox.developers.deliveroo.com/oauth2/token"
    );
    // base64("cid:s3cr3t")
    assert_eq!(
        header(&sandbox, "authorization"),
        Some("Basic Y2lkOnMzY3IzdA==")
    );
    assert_eq!(
        header(&sandbox, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(body(&sandbox), "grant_type=client_credentials");
    let production = request(
        serde_json::json!({"provider": "deliveroo", "environment": "production", "client_id": "c", "client_secret": "s"}),
    );
    assert_eq!(
        production.url,
        "https://auth.developers.deliveroo.com/oauth2/token"
    );
}

#[test]
fn toml_and_json_are_the_same_schema() {
    let toml = TokenConfig::from_toml(
        r#"
        provider = "custom"
        token_url = "https://auth.example.com/v1/auth/token"
        client_id = "cid"
        client_secret = "s3cr3t"
        encoding = "json"
        grant_type = ""
        extra_params = { userAccessType = "TOAST_MACHINE_CLIENT" }
        field_names = { client_id = "clientId", client_secret = "clientSecret" }
        [response]
        access_token = "token.accessToken"
        expires_in = "token.expiresIn"
        "#,
    )
    .unwrap();
    let (profile, creds) = Profile::resolve(&toml).unwrap();
    assert_eq!(
        body(&build(&profile, &creds)),
        r#"{"clientId":"cid","clientSecret":"s3cr3t","userAccessType":"TOAST_MACHINE_CLIENT"}"#
    );
}

#[test]
fn insecure_and_malformed_configs_are_refused() {
    for (cfg, why) in [
        (
            serde_json::json!({"provider": "custom", "token_url": "http://auth.example.com/t", "client_id": "c", "client_secret": "s"}),
            "plain http",
        ),
        (
            serde_json::json!({"provider": "custom", "token_url": "https://u:p@auth.example.com/t", "client_id": "c", "client_secret": "s"}),
            "userinfo",
        ),
        (
            serde_json::json!({"provider": "custom", "token_url": "ftp://auth.example.com/t", "client_id": "c", "client_secret": "s"}),
            "scheme",
        ),
        (
            serde_json::json!({"provider": "deliveroo", "environment": "qa", "client_id": "c", "client_secret": "s"}),
            "environment",
        ),
        (
            serde_json::json!({"provider": "custom", "token_url": "https://a.example/t", "client_id": "", "client_secret": "s"}),
            "empty id",
        ),
        (
            serde_json::json!({"provider": "custom", "token_url": "https://a.example/t", "client_id": "c", "client_secret": "s", "headers": {"Authorization": "x"}}),
            "auth header",
        ),
        (
            serde_json::json!({"provider": "custom", "token_url": "https://a.example/t", "client_id": "c", "client_secret": "s", "policy": {"refresh_ratio": 2.0}}),
            "ratio",
        ),
        (
            serde_json::json!({"provider": "nope", "client_id": "c", "client_secret": "s"}),
            "provider",
        ),
        (
            serde_json::json!({"provider": "custom", "token_url": "https://a.example/t", "client_id": "c", "client_secret": "s", "colour": 1}),
            "unknown key",
        ),
    ] {
        let result = TokenConfig::from_value(cfg).and_then(|c| Profile::resolve(&c));
        assert_eq!(result.map(|_| ()).unwrap_err().code(), "config", "{why}");
    }
    for url in [
        "http://127.0.0.1:8080/t",
        "http://localhost/t",
        "http://[::1]:9/t",
    ] {
        let cfg = serde_json::json!({"provider": "custom", "token_url": url, "client_id": "c", "client_secret": "s"});
        assert!(
            Profile::resolve(&TokenConfig::from_value(cfg).unwrap()).is_ok(),
            "{url} is loopback"
        );
    }
}

#[test]
fn config_errors_do_not_quote_the_secret() {
    let err = TokenConfig::from_value(serde_json::json!({
        "provider": "custom", "client_id": "c", "client_secret": 98765432
    }))
    .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("98765432"), "{err}");
}
