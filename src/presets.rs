//! The platforms tokenwell knows by name, as data: adding a platform is one more
//! entry in [`PRESETS`], with no new code. Each entry says what that platform's
//! public documentation asks for; a config overrides any of it (`base_url`,
//! `token_url`, `encoding`, `credentials`, `grant_type`, `audience`…).

use crate::config::{CredentialsIn, Encoding};
use crate::error::Quoted;

/// One platform's documented token endpoint.
#[derive(Debug, PartialEq)]
pub struct Preset {
    /// The `provider` value that picks it.
    pub name: &'static str,
    /// The config key that picks a host (`environment` or `region`), if any.
    pub host_key: Option<&'static str>,
    /// Named hosts (scheme and origin) the key chooses from.
    pub hosts: &'static [(&'static str, &'static str)],
    /// The host used when the key is absent.
    pub default_host: Option<&'static str>,
    /// The key that must be set when no host applies (`base_url`, `token_url`).
    pub required: Option<&'static str>,
    /// Appended to the host (or to `base_url`).
    pub path: &'static str,
    /// Body encoding.
    pub encoding: Encoding,
    /// Where the client id and secret go.
    pub credentials: CredentialsIn,
    /// The `grant_type` value.
    pub grant_type: &'static str,
    /// Whether the chosen host's origin is sent as `audience`.
    pub audience_is_host: bool,
    /// What the platform adds to RFC 6749: field names, fixed parameters,
    /// scope, response paths, lifetime and refresh window (behind one pointer:
    /// most presets share [`RFC6749_MORE`]).
    pub more: &'static PresetMore,
    /// The platform's documented token-request limit, per hour: the client's
    /// request budget unless `policy.max_requests_per_hour` sets another.
    pub max_requests_per_hour: Option<u32>,
}

/// What a preset adds to RFC 6749 §4.4; each a default the config overrides.
#[derive(Debug, PartialEq)]
pub struct PresetMore {
    /// Body field names of the client id and the client secret.
    pub id_fields: (&'static str, &'static str),
    /// Fixed body parameters the platform requires (a config's `extra_params`
    /// of the same name wins).
    pub extra_params: &'static [(&'static str, &'static str)],
    /// The `scope` sent when the config gives none.
    pub scope: Option<&'static str>,
    /// Whether the config must give `scope` (the platform issues a token per
    /// scope set and documents no default).
    pub scope_required: bool,
    /// Where the response carries the token, its lifetime and its type, and
    /// the success check; the config's `response` overrides each.
    pub response: PresetResponse,
    /// The lifetime assumed when a response carries no expiry, in seconds (a
    /// config's `policy.default_lifetime_secs` other than the default wins).
    pub default_lifetime_secs: Option<u32>,
    /// Refresh ahead only within this many seconds of the expiry
    /// (`policy.refresh_window_secs`, which a config overrides): for platforms
    /// that return the same token until its last moments.
    pub refresh_window_secs: Option<u32>,
}

/// A preset's response paths (dotted) and success check; `None`: the RFC 6749
/// name, or no check.
#[derive(Debug, PartialEq)]
pub struct PresetResponse {
    /// Path of the access token.
    pub access_token: Option<&'static str>,
    /// Path of the relative lifetime in seconds.
    pub expires_in: Option<&'static str>,
    /// Path of the token type.
    pub token_type: Option<&'static str>,
    /// The response is a success only if the value at this path is this string.
    pub success: Option<(&'static str, &'static str)>,
}

/// What a preset leaves as RFC 6749 §4.4 has it (the base of every entry).
const RFC6749: Preset = Preset {
    name: "",
    host_key: None,
    hosts: &[],
    default_host: None,
    required: None,
    path: "",
    encoding: Encoding::Form,
    credentials: CredentialsIn::Body,
    grant_type: "client_credentials",
    audience_is_host: false,
    more: &RFC6749_MORE,
    max_requests_per_hour: None,
};

/// Nothing beyond RFC 6749 §4.4.
pub const RFC6749_MORE: PresetMore = PresetMore {
    id_fields: ("client_id", "client_secret"),
    extra_params: &[],
    scope: None,
    scope_required: false,
    response: PresetResponse {
        access_token: None,
        expires_in: None,
        token_type: None,
        success: None,
    },
    default_lifetime_secs: None,
    refresh_window_secs: None,
};

/// A host name whose origin is empty: the platform documents none, so the
/// config must give `base_url` (or `token_url`) to use it.
pub const UNDOCUMENTED_HOST: &str = "";

/// Every preset. The hosts are the ones integrators use where the docs leave
/// them blank; `base_url` points a preset elsewhere (another region, the mock).
pub const PRESETS: &[Preset] = &[
    // Deliverect, "Get Access Token" (developers.deliverect.com): JSON body with
    // client_id, client_secret, audience and grant_type. The page partners are sent
    // to shows grant_type "token" while the API reference says
    // "client_credentials": we follow the page (`grant_type` overrides). The
    // audience is the environment's API origin, as in its staging example.
    Preset {
        name: "deliverect",
        host_key: Some("environment"),
        hosts: &[
            ("staging", "https://api.staging.deliverect.com"),
            ("production", "https://api.deliverect.com"),
        ],
        default_host: Some("production"),
        required: None,
        path: "/oauth/token",
        encoding: Encoding::Json,
        credentials: CredentialsIn::Body,
        grant_type: "token",
        audience_is_host: true,
        ..RFC6749
    },
    // Bringg / Delivery Hub, "Authenticate Requests" (developers.bringg.com): the
    // example is `curl -F`, i.e. multipart, with an optional `ttl`.
    Preset {
        name: "bringg",
        host_key: Some("region"),
        hosts: &[
            ("eu", "https://eu2-admin-api.bringg.com"),
            ("us", "https://us2-admin-api.bringg.com"),
        ],
        default_host: Some("us"),
        required: None,
        path: "/oauth/token",
        encoding: Encoding::Multipart,
        credentials: CredentialsIn::Body,
        grant_type: "client_credentials",
        audience_is_host: false,
        ..RFC6749
    },
    // A partner API on Laravel Passport ("Client Credentials Grant Tokens",
    // laravel.com/docs/passport): the host is the partner's own.
    Preset {
        name: "passport",
        host_key: None,
        hosts: &[],
        default_host: None,
        required: Some("base_url"),
        path: "/api/oauth/token",
        encoding: Encoding::Json,
        credentials: CredentialsIn::Body,
        grant_type: "client_credentials",
        audience_is_host: false,
        ..RFC6749
    },
    // Deliveroo, "Authentication" (api-docs.deliveroo.com): HTTP Basic plus a
    // form body with only grant_type; 300 s tokens.
    Preset {
        name: "deliveroo",
        host_key: Some("environment"),
        hosts: &[
            ("sandbox", "https://auth-sandbox.developers.deliveroo.com"),
            ("production", "https://auth.developers.deliveroo.com"),
        ],
        default_host: Some("production"),
        required: None,
        path: "/oauth2/token",
        encoding: Encoding::Form,
        credentials: CredentialsIn::Basic,
        grant_type: "client_credentials",
        audience_is_host: false,
        ..RFC6749
    },
    // Uber (Eats, Direct), "Authentication" (developer.uber.com/docs/deliveries/
    // authentication, docs/eats/guides/authentication): a form body with the
    // credentials, grant_type and a space-delimited `scope` (a token per scope
    // set; no default, so the config must name it, e.g. `eats.deliveries`).
    // Tokens last 30 days; 100 token requests per hour, then 429; past 100
    // live tokens a new one invalidates the oldest.
    Preset {
        name: "uber",
        host_key: Some("environment"),
        hosts: &[("production", "https://auth.uber.com")],
        default_host: Some("production"),
        path: "/oauth/v2/token",
        more: &PresetMore {
            scope_required: true,
            default_lifetime_secs: Some(30 * 24 * 3600),
            ..RFC6749_MORE
        },
        max_requests_per_hour: Some(100),
        ..RFC6749
    },
    // Stuart, "Authentication" (stuart.com/developers, api-docs.stuart.com):
    // a form body with the credentials, grant_type and `scope=api`. Tokens
    // last about a month and may be up to 8 KiB long (JWTs).
    Preset {
        name: "stuart",
        host_key: Some("environment"),
        hosts: &[
            ("sandbox", "https://api.sandbox.stuart.com"),
            ("production", "https://api.stuart.com"),
        ],
        default_host: Some("production"),
        path: "/oauth/token",
        more: &PresetMore {
            scope: Some("api"),
            default_lifetime_secs: Some(30 * 24 * 3600),
            ..RFC6749_MORE
        },
        ..RFC6749
    },
    // Toast, "Authentication" and "API authentication rate limit"
    // (doc.toasttab.com/doc/devguide/authentication.html,
    // apiAuthenticationRateLimit.html, apiAuthTokenRefresh.html): JSON
    // `clientId`, `clientSecret`, `userAccessType: TOAST_MACHINE_CLIENT`, no
    // grant_type; the token at `token.accessToken`, its lifetime (about a day)
    // at `token.expiresIn`, `status: "SUCCESS"`. The same token comes back
    // until its last minute, so a refresh earlier than that only fetches it
    // again; at most 2 token requests per hour. No sandbox host is public:
    // `environment: "sandbox"` needs `base_url`.
    Preset {
        name: "toast",
        host_key: Some("environment"),
        hosts: &[
            ("sandbox", UNDOCUMENTED_HOST),
            ("production", "https://ws-api.toasttab.com"),
        ],
        default_host: Some("production"),
        path: "/authentication/v1/authentication/login",
        encoding: Encoding::Json,
        grant_type: "",
        more: &PresetMore {
            id_fields: ("clientId", "clientSecret"),
            extra_params: &[("userAccessType", "TOAST_MACHINE_CLIENT")],
            scope: None,
            scope_required: false,
            response: PresetResponse {
                access_token: Some("token.accessToken"),
                expires_in: Some("token.expiresIn"),
                token_type: Some("token.tokenType"),
                success: Some(("status", "SUCCESS")),
            },
            default_lifetime_secs: Some(24 * 3600),
            refresh_window_secs: Some(60),
        },
        max_requests_per_hour: Some(2),
        ..RFC6749
    },
    // DoorDash Drive, "JWTs" (developer.doordash.com/en-US/docs/drive/reference/JWTs):
    // no token endpoint, the client signs its own JWT (see doordash.rs). The
    // host is the Drive API's; it names the client in the cache key and status
    // and is never asked for a token.
    Preset {
        name: "doordash",
        host_key: Some("environment"),
        hosts: &[("production", "https://openapi.doordash.com")],
        default_host: Some("production"),
        required: None,
        path: "",
        encoding: Encoding::Json,
        credentials: CredentialsIn::Body,
        grant_type: "",
        audience_is_host: false,
        ..RFC6749
    },
    // Anything else, described in full by the config (RFC 6749 §4.4 defaults).
    Preset {
        name: "custom",
        host_key: None,
        hosts: &[],
        default_host: None,
        required: Some("token_url"),
        path: "",
        encoding: Encoding::Form,
        credentials: CredentialsIn::Body,
        grant_type: "client_credentials",
        audience_is_host: false,
        ..RFC6749
    },
];

/// A preset, named by a config's `provider`. Serialised as its name.
#[derive(Clone, Copy)]
pub struct Provider(&'static Preset);

/// Presets have unique names: comparing them is enough.
impl PartialEq for Provider {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Provider {
    /// The preset called `name`.
    pub fn named(name: &str) -> Option<Provider> {
        PRESETS.iter().find(|p| p.name == name).map(Provider)
    }

    /// The name used in configs (`"deliveroo"`).
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// What the preset contributes.
    pub(crate) fn preset(self) -> &'static Preset {
        self.0
    }

    /// Every preset name, for error messages and schemas.
    pub fn names() -> impl Iterator<Item = &'static str> {
        PRESETS.iter().map(|p| p.name)
    }
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Provider({})", Quoted(self.0.name))
    }
}

impl<'de> serde::Deserialize<'de> for Provider {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Provider::named(&name).ok_or_else(|| {
            let names: Vec<_> = Provider::names().collect();
            serde::de::Error::custom(format!(
                "unknown provider {}, expected one of: {}",
                Quoted(&name),
                names.join(", ")
            ))
        })
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Provider {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Provider".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<_> = Provider::names().collect();
        schemars::json_schema!({
            "type": "string",
            "enum": names,
            "description": "A preset (see presets.rs), or `custom`."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_consistent() {
        for p in PRESETS {
            assert_eq!(Provider::named(p.name).map(Provider::preset), Some(p));
            // A preset either picks a host or names the key that must give one.
            assert_eq!(p.hosts.is_empty(), p.required.is_some(), "{}", p.name);
            assert_eq!(p.hosts.is_empty(), p.host_key.is_none(), "{}", p.name);
            if let Some(default) = p.default_host {
                assert!(p.hosts.iter().any(|(n, _)| *n == default), "{}", p.name);
            }
            for (_, origin) in p.hosts {
                let undocumented = *origin == UNDOCUMENTED_HOST;
                assert!(undocumented || origin.starts_with("https://") && !origin.ends_with('/'));
            }
            if let Some(default) = p.default_host {
                let origin = p.hosts.iter().find(|(n, _)| *n == default).map(|h| h.1);
                assert_ne!(origin, Some(UNDOCUMENTED_HOST), "{}", p.name);
            }
            assert!(
                !(p.more.scope_required && p.more.scope.is_some()),
                "{}",
                p.name
            );
            assert!(!p.name.is_empty());
        }
        assert!(Provider::named("nope").is_none());
    }
}
