//! Typed request and response models of the TikTok Shop API (lenient: unknown fields ignored, ids as strings).
//!
//! - [`product`]: create / edit / partial-edit bodies, create response, category attributes;
//! - [`order`]: order detail (`GET /order/202309/orders`) with the status enum;
//! - [`inventory`]: inventory update body;
//! - [`price`]: price update body.
//!
//! Conventions (spec §3): 64-bit ids and money are strings on the wire; ids sent as JSON numbers are
//! accepted too ([`lenient`]). Every response field has a default, so a missing field never fails a
//! decode; request bodies skip empty optional fields.

pub mod inventory;
pub mod order;
pub mod price;
pub mod product;

/// Serde helpers for TikTok's loosely typed JSON.
pub mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// A string, or a number/bool written as text; `null` and missing become `""`.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(opt_string(d)?.unwrap_or_default())
    }

    /// Like [`string`] but keeps `null` / missing as `None`.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(other) => Some(other.to_string()),
        })
    }

    /// A list of ids given as strings or numbers.
    pub fn string_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
    }

    /// An integer given as a number or a numeric string; anything else becomes 0.
    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Ok(opt_int(d)?.unwrap_or(0))
    }

    /// Like [`int`] but keeps `null` / missing / unparsable as `None`.
    pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
    }

    /// A non-negative count given as a number or a numeric string; negatives become 0, values above
    /// `u32::MAX` saturate.
    pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        Ok(opt_int(d)?.unwrap_or(0).clamp(0, u32::MAX as i64) as u32)
    }

    /// A boolean given as `true`/`false`, `0`/`1` or their string forms.
    pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Bool(b)) => b,
            Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
            Some(Value::String(s)) => matches!(s.as_str(), "true" | "1"),
            _ => false,
        })
    }
}
