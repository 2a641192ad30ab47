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
}

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
    },
];

/// A preset, named by a config's `provider`. Serialised as its name.
#[derive(Clone, Copy, PartialEq)]
pub struct Provider(&'static Preset);

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
                assert!(origin.starts_with("https://") && !origin.ends_with('/'));
            }
        }
        assert!(Provider::named("nope").is_none());
    }
}
