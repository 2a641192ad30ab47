//! A minimal serde serializer into plain JS values, for the records of
//! `crate::records`. serde-wasm-bindgen does the same but grew the .wasm by
//! 6 KB (its interned-key cache), serde_json plus `JSON.parse` by 2 KB; this
//! one cannot fail, so no `Result` travels through memory.
//!
//! A struct or a map becomes a plain object, a sequence or a tuple an array,
//! `None` and `()` `null`, a number a JS number (as `f64`, like JS itself),
//! bytes a `Uint8Array`. Enums are untagged: a unit variant is its name, any
//! other variant its content.

use std::fmt;

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::ser::{self, Serialize};
use wasm_bindgen::JsValue;

/// `value` as a JS value.
pub(super) fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    match value.serialize(JsSerializer) {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// The serializer's error, which cannot happen.
#[derive(Debug)]
pub(super) enum Never {}

impl fmt::Display for Never {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for Never {}

impl ser::Error for Never {
    fn custom<T: fmt::Display>(_: T) -> Self {
        // Only hand-written `Serialize` impls raise custom errors; the records'
        // are derived (or write a plain string).
        unreachable!("a record failed to serialize")
    }
}

type Result<T = JsValue> = std::result::Result<T, Never>;

struct JsSerializer;

macro_rules! numbers {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result {
            Ok(JsValue::from_f64(v as f64))
        })*
    };
}

impl ser::Serializer for JsSerializer {
    type Ok = JsValue;
    type Error = Never;
    type SerializeSeq = JsArray;
    type SerializeTuple = JsArray;
    type SerializeTupleStruct = JsArray;
    type SerializeTupleVariant = JsArray;
    type SerializeMap = JsMap;
    type SerializeStruct = JsObject;
    type SerializeStructVariant = JsObject;

    numbers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
             serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
             serialize_f32: f32, serialize_f64: f64);

    fn serialize_bool(self, v: bool) -> Result {
        Ok(JsValue::from_bool(v))
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        Ok(JsValue::from_str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        Ok(Uint8Array::from(v).into())
    }
    fn serialize_none(self) -> Result {
        Ok(JsValue::NULL)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<JsArray> {
        Ok(JsArray(Array::new()))
    }
    fn serialize_tuple(self, _: usize) -> Result<JsArray> {
        Ok(JsArray(Array::new()))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<JsArray> {
        Ok(JsArray(Array::new()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<JsArray> {
        Ok(JsArray(Array::new()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<JsMap> {
        Ok(JsMap(Object::new(), JsValue::UNDEFINED))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<JsObject> {
        Ok(JsObject(Object::new()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<JsObject> {
        Ok(JsObject(Object::new()))
    }
}

struct JsArray(Array);

impl JsArray {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.0.push(&to_js(value));
        Ok(())
    }
}

macro_rules! arrays {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for JsArray {
            type Ok = JsValue;
            type Error = Never;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.push(value)
            }
            fn end(self) -> Result {
                Ok(self.0.into())
            }
        })*
    };
}

arrays!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

struct JsObject(Object);

impl ser::SerializeStruct for JsObject {
    type Ok = JsValue;
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        set_field(&self.0, key, to_js(value));
        Ok(())
    }
    fn end(self) -> Result {
        Ok(self.0.into())
    }
}

impl ser::SerializeStructVariant for JsObject {
    type Ok = JsValue;
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result {
        Ok(self.0.into())
    }
}

/// An object, and the key of the entry whose value is still to come.
struct JsMap(Object, JsValue);

impl ser::SerializeMap for JsMap {
    type Ok = JsValue;
    type Error = Never;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.1 = to_js(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let _ = Reflect::set(&self.0, &self.1, &to_js(value));
        Ok(())
    }
    fn end(self) -> Result {
        Ok(self.0.into())
    }
}

/// Out of line, so that each field type's `serialize_field` stays small.
#[inline(never)]
fn set_field(object: &Object, key: &str, value: JsValue) {
    // Setting a data property on a fresh plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), &value);
}
