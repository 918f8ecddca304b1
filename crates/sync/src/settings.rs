//! Per-shop settings of an engine: read on every call, replaced when a shop is (re)connected.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tts_core::{Error, ErrorCode, Result};

/// The settings of every shop an engine serves.
pub struct ShopSettings<T> {
    /// What the settings are for, in error messages ("order import", "tracking", ...).
    what: &'static str,
    by_shop: RwLock<HashMap<String, Arc<T>>>,
}

impl<T> ShopSettings<T> {
    pub fn new(what: &'static str, settings: impl IntoIterator<Item = (String, T)>) -> Self {
        ShopSettings {
            what,
            by_shop: RwLock::new(settings.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()),
        }
    }

    /// Adds or replaces a shop's settings.
    pub fn set(&self, shop_id: String, settings: T) {
        self.by_shop
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(shop_id, Arc::new(settings));
    }

    /// A shop's settings; `TTS_NOT_FOUND` naming the engine when the shop has none.
    pub fn get(&self, shop_id: &str) -> Result<Arc<T>> {
        self.by_shop
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(shop_id)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NotFound,
                    format!("no {} settings for shop {shop_id}", self.what),
                )
                .with_field("shopId")
            })
    }

    /// The shops with settings, sorted.
    pub fn shops(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .by_shop
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        ids.sort();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_set_read_and_missing_ones_name_the_engine() {
        let s = ShopSettings::new("tracking", [("a".to_string(), 1)]);
        s.set("b".into(), 2);
        s.set("a".into(), 3);
        assert_eq!((*s.get("a").unwrap(), *s.get("b").unwrap()), (3, 2));
        assert_eq!(s.shops(), ["a", "b"]);
        let e = s.get("c").unwrap_err();
        assert_eq!(
            (e.code(), e.field.as_deref()),
            (ErrorCode::NotFound, Some("shopId"))
        );
        assert!(e.message().contains("no tracking settings for shop c"));
    }
}
