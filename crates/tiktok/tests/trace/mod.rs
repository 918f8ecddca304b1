//! The shape a serde model reads, learnt by driving its `Deserialize` with a deserializer that answers
//! every request with a value of the asked type and records what was asked: struct field names (all of
//! them, optional ones too), and per field string / number / bool / list / object, or "any" where the
//! model reads loosely (`deserialize_any`, e.g. the `lenient` helpers).

use std::collections::BTreeMap;

use serde::de::value::{Error, StrDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Str,
    Num,
    Bool,
    List(Box<Shape>),
    Obj(BTreeMap<&'static str, Shape>),
    /// Read loosely, or not asked (a map, a tuple).
    Any,
}

/// The shape model `T` reads.
pub fn shape_of<'de, T: serde::Deserialize<'de>>() -> Shape {
    let mut shape = Shape::Any;
    let _ = T::deserialize(Tracer {
        shape: &mut shape,
        depth: 0,
    });
    shape
}

struct Tracer<'a> {
    shape: &'a mut Shape,
    depth: usize,
}

struct OneItem<'a> {
    item: Option<&'a mut Shape>,
    depth: usize,
}

impl<'de> SeqAccess<'de> for OneItem<'_> {
    type Error = Error;
    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        match self.item.take() {
            Some(shape) => seed
                .deserialize(Tracer {
                    shape,
                    depth: self.depth + 1,
                })
                .map(Some),
            None => Ok(None),
        }
    }
}

struct Fields<'a> {
    names: &'static [&'static str],
    at: usize,
    out: &'a mut BTreeMap<&'static str, Shape>,
    depth: usize,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.names.get(self.at) {
            Some(name) => {
                let key: StrDeserializer<'_, Error> = name.into_deserializer();
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let name = self.names[self.at];
        self.at += 1;
        let slot = self.out.entry(name).or_insert(Shape::Any);
        seed.deserialize(Tracer {
            shape: slot,
            depth: self.depth + 1,
        })
    }
}

struct NoEntries;

impl<'de> MapAccess<'de> for NoEntries {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _: K) -> Result<Option<K::Value>, Error> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("no value"))
    }
}

macro_rules! numbers {
    ($($m:ident),*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            *self.shape = Shape::Num;
            v.visit_u64(1)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Tracer<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Any;
        v.visit_unit()
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Bool;
        v.visit_bool(true)
    }
    numbers!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64
    );
    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Num;
        v.visit_f64(1.0)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Num;
        v.visit_f64(1.0)
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Str;
        v.visit_char('1')
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Str;
        v.visit_str("1")
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Str;
        v.visit_string("1".into())
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Str;
        v.visit_bytes(b"1")
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Str;
        v.visit_byte_buf(b"1".to_vec())
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_some(self)
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.depth > 24 {
            *self.shape = Shape::Any;
            return v.visit_seq(OneItem { item: None, depth: 0 });
        }
        *self.shape = Shape::List(Box::new(Shape::Any));
        let Shape::List(item) = self.shape else {
            unreachable!()
        };
        v.visit_seq(OneItem {
            item: Some(&mut **item),
            depth: self.depth,
        })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Any;
        v.visit_seq(OneItem { item: None, depth: 0 })
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        *self.shape = Shape::Any;
        v.visit_seq(OneItem { item: None, depth: 0 })
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        *self.shape = Shape::Any;
        v.visit_map(NoEntries)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        if self.depth > 24 {
            *self.shape = Shape::Any;
            return v.visit_map(NoEntries);
        }
        *self.shape = Shape::Obj(BTreeMap::new());
        let Shape::Obj(out) = self.shape else {
            unreachable!()
        };
        v.visit_map(Fields {
            names: fields,
            at: 0,
            out,
            depth: self.depth,
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        *self.shape = Shape::Str;
        let first: StrDeserializer<'_, Error> = variants.first().copied().unwrap_or("").into_deserializer();
        v.visit_enum(first)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_str("")
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }
}
