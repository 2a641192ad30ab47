//! The config's deserializer: `serde_json::from_value` re-done over `&Value`
//! with an error type of its own, whose messages never quote a config value
//! (a secret can sit anywhere: a Redis URL's password, a header, a value put
//! under the wrong key) and which does not carry `core`'s float formatting
//! (about 20 KB in the WebAssembly build).
//!
//! It decides everything exactly as `serde_json::from_value` does (the same
//! visits, the same checks) and words it the same but for the values: the
//! offending value's kind stands for it (`invalid type: string, expected …`,
//! `unknown variant, expected one of …`). `tests::same_as_serde_json` holds it
//! to that.

use std::fmt;

use serde::de::{
    self, value::BorrowedStrDeserializer, DeserializeSeed, EnumAccess, Expected, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Deserializes `T` from `value`, as `serde_json::from_value(value.clone())` would.
pub(crate) fn from_value<'de, T: Deserialize<'de>>(value: &'de Value) -> Result<T, Error> {
    T::deserialize(De(value))
}

/// A deserialization error: the message serde_json would give.
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    #[cold]
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }

    #[cold]
    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Error(format!("invalid type: {}, expected {exp}", Unexp(unexp)))
    }

    #[cold]
    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Error(format!("invalid value: {}, expected {exp}", Unexp(unexp)))
    }

    #[cold]
    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        Error(format!("unknown variant, expected {}", OneOf(expected)))
    }
}

/// The variants a field takes, as serde words them.
struct OneOf(&'static [&'static str]);

impl fmt::Display for OneOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("there are no variants"),
            [only] => write!(f, "`{only}`"),
            [a, b] => write!(f, "`{a}` or `{b}`"),
            [first, rest @ ..] => {
                write!(f, "one of `{first}`")?;
                rest.iter().try_for_each(|v| write!(f, ", `{v}`"))
            }
        }
    }
}

/// serde's `Unexpected` as serde_json words it, but for the value: its kind
/// only (a boolean says which), every variant spelt out so serde's own display
/// is never linked.
struct Unexp<'a>(Unexpected<'a>);

impl fmt::Display for Unexp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Unexpected::*;
        f.write_str(match self.0 {
            Bool(true) => "boolean `true`",
            Bool(false) => "boolean `false`",
            Unsigned(_) | Signed(_) => "integer",
            Float(_) => "floating point",
            Char(_) => "character",
            Str(_) => "string",
            Bytes(_) => "byte array",
            Unit => "null",
            Option => "Option value",
            NewtypeStruct => "newtype struct",
            Seq => "sequence",
            Map => "map",
            Enum => "enum",
            UnitVariant => "unit variant",
            NewtypeVariant => "newtype variant",
            TupleVariant => "tuple variant",
            StructVariant => "struct variant",
            Other(other) => other,
        })
    }
}

pub(super) fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (None, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[derive(Clone, Copy)]
struct De<'de>(&'de Value);

/// Number methods that take what `deserialize_u64` takes.
macro_rules! numbers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.deserialize_u64(visitor)
        }
    )*};
}

fn visit_array<'de, V: Visitor<'de>>(array: &'de [Value], visitor: V) -> Result<V::Value, Error> {
    let mut seq = Seq(array.iter());
    let value = visitor.visit_seq(&mut seq)?;
    if seq.0.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(
            array.len(),
            &"fewer elements in array",
        ))
    }
}

fn visit_object<'de, V: Visitor<'de>>(
    object: &'de Map<String, Value>,
    visitor: V,
) -> Result<V::Value, Error> {
    let mut map = Entries(object.iter(), None);
    let value = visitor.visit_map(&mut map)?;
    if map.0.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(
            object.len(),
            &"fewer elements in map",
        ))
    }
}

impl<'de> de::Deserializer<'de> for De<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => visitor.visit_u64(u),
                (None, Some(i)) => visitor.visit_i64(i),
                _ => visitor.visit_f64(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(a) => visit_array(a, visitor),
            Value::Object(o) => visit_object(o, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let (variant, value) = match self.0 {
            Value::Object(o) => {
                let mut entries = o.iter();
                match (entries.next(), entries.next()) {
                    (Some((k, v)), None) => (k.as_str(), Some(v)),
                    _ => {
                        return Err(de::Error::invalid_value(
                            Unexpected::Map,
                            &"map with a single key",
                        ))
                    }
                }
            }
            Value::String(s) => (s.as_str(), None),
            other => return Err(de::Error::invalid_type(unexpected(other), &"string or map")),
        };
        visitor.visit_enum(Enum(variant, value))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// An object only. serde_json also fills a struct from an array of its field
    /// values in order (`"policy": [0.8, 0.1, 30, 300, 1000, 60000]`), which the
    /// schema (`schema/config.schema.json`) does not allow and nobody writes; refusing
    /// it saves 10 KB of WebAssembly, one `visit_seq` per struct.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(o) => visit_object(o, visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    // The typed methods as serde_json's: the one kind of value they take, else
    // an `invalid type` (the message the visitor itself would give). Not
    // forwarding them to `deserialize_any` keeps each visitor's code small.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => visitor.visit_borrowed_str(s),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Bool(b) => visitor.visit_bool(*b),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Number(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(o) => visit_object(o, visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(a) => visit_array(a, visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    // Every number type as serde_json's: a number, else `invalid type`; bytes
    // (a string or an array there, not in the schema) as anything.
    serde::forward_to_deserialize_any! { bytes byte_buf }
    numbers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u128 deserialize_f32
        deserialize_f64
    }
}

struct Seq<'de>(std::slice::Iter<'de, Value>);

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|v| seed.deserialize(De(v))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de>(serde_json::map::Iter<'de>, Option<&'de Value>);

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.0.next() {
            Some((k, v)) => {
                self.1 = Some(v);
                seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        match self.1.take() {
            Some(v) => seed.deserialize(De(v)),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Enum<'de>(&'de str, Option<&'de Value>);

impl<'de> EnumAccess<'de> for Enum<'de> {
    type Error = Error;
    type Variant = Variant<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Variant<'de>), Error> {
        let variant = seed.deserialize(BorrowedStrDeserializer::new(self.0))?;
        Ok((variant, Variant(self.1)))
    }
}

struct Variant<'de>(Option<&'de Value>);

impl<'de> VariantAccess<'de> for Variant<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            Some(v) => <()>::deserialize(De(v)),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.0 {
            Some(v) => seed.deserialize(De(v)),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Some(Value::Array(a)) if a.is_empty() => visitor.visit_unit(),
            Some(Value::Array(a)) => visit_array(a, visitor),
            Some(other) => Err(de::Error::invalid_type(unexpected(other), &"tuple variant")),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Some(Value::Object(o)) => visit_object(o, visitor),
            Some(other) => Err(de::Error::invalid_type(
                unexpected(other),
                &"struct variant",
            )),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use serde_json::{json, Value};

    use crate::config::TokenConfig;
    use crate::error::Result;
    use crate::redact::Redactor;

    /// `TokenConfig::from_value` on `serde_json::from_value`, its message
    /// without the value (see [`without_value`]).
    fn reference(value: Value) -> Result<TokenConfig> {
        // Checked on the value before either reader runs (a message naming the key).
        crate::budget::check_config(&value)?;
        let secret = ["client_secret", "clientSecret"]
            .iter()
            .find_map(|k| value.get(*k))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        serde_json::from_value(value).map_err(|e| {
            let redactor = Redactor::new("", secret.as_deref().unwrap_or_default());
            crate::error::Error::config(format!(
                "invalid config: {}",
                without_value(&e.to_string())
            ))
            .redacted(&redactor)
        })
    }

    /// serde_json's message with the offending value left out as ours leaves it
    /// out: `string "x"` is `string`, ``integer `1` `` is `integer`, and so on;
    /// ``unknown variant `x`, `` is `unknown variant, `.
    fn without_value(msg: &str) -> String {
        for prefix in ["invalid type: ", "invalid value: "] {
            if let (Some(start), Some(end)) = (msg.find(prefix), msg.rfind(", expected ")) {
                let unexp = &msg[start + prefix.len()..end];
                let kind = ["string ", "integer ", "floating point ", "character "]
                    .into_iter()
                    .find(|k| unexp.starts_with(k))
                    .map_or(unexp, str::trim_end);
                return format!("{}{prefix}{kind}{}", &msg[..start], &msg[end..]);
            }
        }
        if let Some(start) = msg.find("unknown variant `") {
            if let Some(end) = msg[start..].find("`, expected ") {
                return format!(
                    "{}unknown variant{}",
                    &msg[..start],
                    &msg[start + end + 1..]
                );
            }
        }
        msg.to_owned()
    }

    #[test]
    fn no_message_quotes_a_value() {
        for (config, field) in [
            (
                json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "store": "rediss://:Hunter2-pw@cache.internal:6380/0"}),
                "Hunter2-pw",
            ),
            (
                json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "headers": {"x-api-key": 987654321}}),
                "987654321",
            ),
            (
                json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "credentials": "Hunter2-misplaced"}),
                "Hunter2-misplaced",
            ),
            (
                json!({"provider": "custom", "client_id": 1.25, "client_secret": "b"}),
                "1.25",
            ),
        ] {
            let e = TokenConfig::from_value(config).unwrap_err();
            assert!(!e.to_string().contains(field), "{e}");
        }
        let e = TokenConfig::from_value(json!({"provider": "custom", "client_id": "a",
            "client_secret": "b", "credentials": "x"}))
        .unwrap_err();
        assert!(
            e.to_string().contains("unknown variant, expected one of `"),
            "{e}"
        );
    }

    fn outcome(r: Result<TokenConfig>) -> String {
        match r {
            Ok(c) => format!(
                "ok {c:?} {}",
                c.client_secret.as_ref().map_or("", |s| s.expose())
            ),
            Err(e) => format!("err {e}"),
        }
    }

    /// Whether `v` holds an array where the schema has a struct (serde_json
    /// accepts a struct's field values in an array; the schema and this module
    /// do not).
    fn array_for_struct(v: &Value) -> bool {
        let nested = |o: &serde_json::Map<String, Value>, keys: &[&str]| {
            keys.iter().filter_map(|k| o.get(*k)).any(Value::is_array)
        };
        match v {
            Value::Array(_) => true,
            Value::Object(o) => {
                nested(
                    o,
                    &[
                        "field_names",
                        "fieldNames",
                        "response",
                        "policy",
                        "http",
                        "store",
                        "assertion",
                    ],
                ) || o
                    .get("response")
                    .and_then(Value::as_object)
                    .is_some_and(|r| nested(r, &["success"]))
            }
            _ => false,
        }
    }

    fn odd_values() -> Vec<Value> {
        vec![
            json!(null),
            json!(true),
            json!(0),
            json!(1),
            json!(-1),
            json!(1.5),
            json!(-2.5e-7),
            json!(1e300),
            json!(18446744073709551615u64),
            json!(-9223372036854775808i64),
            json!(""),
            json!("x\"\u{1}\u{e9}"),
            json!("json"),
            json!("basic"),
            json!([]),
            json!([1, "a"]),
            json!([0.8, 0.1, 30, 300, 1000, 60000]),
            json!({}),
            json!({"a": 1}),
            json!({"json": null}),
            json!({"form": 1}),
            json!({"json": null, "form": null}),
            json!({"path": "status", "equals": "SUCCESS"}),
            json!({"path": 1}),
            json!({"refresh_ratio": 0.5, "skewRatio": "x"}),
            json!({"timeout_ms": 1.0}),
        ]
    }

    /// Every config of the conformance vectors, and each with every key (and
    /// every key of its nested objects) in turn set to an odd value, removed,
    /// or joined by an unknown key or a duplicate spelling.
    pub(crate) fn corpus() -> Vec<Value> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");
        let mut bases = vec![json!({
            "provider": "custom", "token_url": "https://a.example/t", "client_id": "c",
            "client_secret": "s3cr3t-value", "audience": "a", "scope": "s", "ttl": 60,
            "grant_type": "g", "encoding": "form", "credentials": "both",
            "field_names": {"client_id": "clientId", "ttl": "t"},
            "extra_params": {"x": 1, "y": "z", "b": true},
            "headers": {"x-a": "b"},
            "response": {"access_token": "a.b", "success": {"path": "ok", "equals": true}},
            "policy": {"refresh_ratio": 0.5, "maxSkewSecs": 10},
            "http": {"timeoutMs": 100, "proxy": "http://u:p@proxy.example:3128",
                "noProxy": "a.example", "ca_file": "ca.pem", "caOnly": true,
                "client_cert_file": "c.pem", "clientKeyFile": "k.pem"}
        })];
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let v: Value =
                    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                bases.extend(v.get("config").cloned());
                if let Some(clients) = v.get("clients").and_then(Value::as_object) {
                    bases.extend(clients.values().cloned());
                }
            }
        }
        // One config of each shape (set of keys, nested ones included) is enough.
        let mut shapes = std::collections::BTreeSet::new();
        bases.retain(|b| {
            let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
            let nested: Vec<_> = b
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), keys(v)))
                .collect();
            shapes.insert(format!("{nested:?}"))
        });
        let mut out = vec![json!(null), json!([]), json!("x"), json!(1)];
        for (i, base) in bases.into_iter().enumerate() {
            let Value::Object(top) = &base else { continue };
            let mut paths: Vec<Vec<String>> = top.keys().map(|k| vec![k.clone()]).collect();
            for (k, v) in top {
                if let Value::Object(inner) = v {
                    paths.extend(inner.keys().map(|ik| vec![k.clone(), ik.clone()]));
                }
            }
            // Nested keys the configs lack, on the first (the fullest) only.
            for k in [
                "policy",
                "http",
                "response",
                "field_names",
                "fieldNames",
                "nope",
            ]
            .into_iter()
            .filter(|_| i == 0)
            {
                paths.push(vec![k.to_owned()]);
                for ik in [
                    "refresh_ratio",
                    "timeout_ms",
                    "success",
                    "client_id",
                    "nope",
                ] {
                    paths.push(vec![k.to_owned(), ik.to_owned()]);
                }
            }
            for path in &paths {
                for odd in odd_values() {
                    let mut v = base.clone();
                    set(&mut v, path, Some(odd));
                    out.push(v);
                }
                let mut v = base.clone();
                set(&mut v, path, None);
                out.push(v);
            }
            for (k, dup) in [
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
                ("token_url", "tokenUrl"),
            ] {
                let mut v = base.clone();
                if let Some(val) = v.get(k).cloned().or_else(|| v.get(dup).cloned()) {
                    v[k] = val.clone();
                    v[dup] = val;
                    out.push(v);
                }
            }
            out.push(base);
        }
        out
    }

    /// Sets (or with `None` removes) the value at `path`, creating objects on the way.
    fn set(v: &mut Value, path: &[String], value: Option<Value>) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut at = v;
        for p in parents {
            if !at.get(p).is_some_and(Value::is_object) {
                at[p] = json!({});
            }
            at = &mut at[p];
        }
        match value {
            Some(value) => at[last] = value,
            None => {
                if let Some(o) = at.as_object_mut() {
                    o.shift_remove(last);
                }
            }
        }
    }

    #[test]
    fn same_as_serde_json() {
        let corpus = corpus();
        assert!(corpus.len() > 4_000, "{}", corpus.len());
        let (mut ok, mut arrays) = (0, 0);
        for value in corpus {
            let ours = outcome(TokenConfig::from_value(value.clone()));
            let theirs = outcome(reference(value.clone()));
            ok += usize::from(ours.starts_with("ok"));
            if ours != theirs {
                arrays += 1;
                assert!(
                    array_for_struct(&value)
                        && ours.contains("invalid config: invalid type: sequence, expected struct"),
                    "{value}\n ours:   {ours}\n theirs: {theirs}"
                );
            }
        }
        assert!(ok > 500 && arrays > 0, "{ok} {arrays}");
    }
}
