//! Building the five engines over one store and two clients, and giving them a shop's settings
//! from one document (the Alokai configuration's `shops[]`, a CLI's JSON file).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use tts_core::{Error, Result};
use tts_mapping::order::OrderMappingConfig;
use tts_mapping::product::ProductMappingConfig;
use tts_plenty::Decimal;
use tts_plenty::client::Client as PlentyClient;
use tts_store::Store;
use tts_tiktok::client::Client as TikTokClient;

use crate::aftersales::{AftersalesConfig, AftersalesEngine};
use crate::fulfillment::{TrackingConfig, TrackingEngine};
use crate::orders::OrderImporter;
use crate::products::{ExportSettings, ProductExporter, ShopExport};
use crate::runner::Engines;
use crate::stock::{PushedValues, StockPusher, StockSettings, StoreReservations};

/// A shop's settings for every engine, snake_case as the Rust configs. Each engine's section is
/// optional: what is missing takes its defaults, `shop_id` and `region` are filled in, and
/// `referrer_id` defaults to the "TikTok Shop" referrer.
///
/// ```json
/// { "shop_id": "7000…", "region": "DE",
///   "orders": { "plenty_id": 1000, "payment_method_id": 6000 },
///   "products": { "categories": { "categories": { "12": "600001" } },
///                 "inventory": { "warehouses": { … } } },
///   "max_creates_per_day": 100,
///   "tracking": { "carriers": { "6": "7117858858072016686" } },
///   "aftersales": { "returns": { "auto_approve_below": "20" } } }
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopSyncSettings {
    pub shop_id: String,
    /// The shop's region (`DE`, `UK`, `US`, …): listing rules, currency, the tracking method.
    pub region: String,
    #[serde(default)]
    pub orders: Option<Value>,
    #[serde(default)]
    pub products: Option<Value>,
    #[serde(default)]
    pub max_creates_per_day: Option<u32>,
    #[serde(default)]
    pub tracking: Option<Value>,
    #[serde(default)]
    pub aftersales: Option<Value>,
}

/// One shop's config for each engine.
#[derive(Clone, Debug)]
pub struct ShopConfigs {
    pub orders: OrderMappingConfig,
    pub products: ProductMappingConfig,
    pub max_creates_per_day: u32,
    pub tracking: TrackingConfig,
    pub aftersales: AftersalesConfig,
}

/// The currency a region's shop sells in, where there is one obvious answer.
pub fn region_currency(region: &str) -> Option<&'static str> {
    const EURO: &[&str] = &[
        "DE", "FR", "IT", "ES", "IE", "AT", "NL", "BE", "PT", "FI", "GR", "LU",
    ];
    match region.trim().to_ascii_uppercase().as_str() {
        "UK" | "GB" => Some("GBP"),
        "US" => Some("USD"),
        "MX" => Some("MXN"),
        "BR" => Some("BRL"),
        "JP" => Some("JPY"),
        r if EURO.contains(&r) => Some("EUR"),
        _ => None,
    }
}

/// Reads one engine's section, with `shop_id` (and the defaults given) filled in where the section
/// leaves them out. Errors name the field, e.g. `shops[0].tracking.carriers`.
fn section<T: serde::de::DeserializeOwned>(
    name: &str,
    raw: Option<Value>,
    defaults: &[(&str, Value)],
) -> Result<T> {
    let mut object = match raw {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(Error::invalid_argument(name, "must be an object")),
    };
    for (key, value) in defaults {
        object.entry(key.to_string()).or_insert_with(|| value.clone());
    }
    serde_json::from_value(Value::Object(object)).map_err(|e| Error::invalid_argument(name, e))
}

impl ShopSyncSettings {
    pub fn from_json(value: Value) -> Result<Self> {
        let s: ShopSyncSettings =
            serde_json::from_value(value).map_err(|e| Error::invalid_argument("shop", e))?;
        if s.shop_id.trim().is_empty() {
            return Err(Error::invalid_argument("shop_id", "is empty"));
        }
        if s.region.trim().is_empty() {
            return Err(Error::invalid_argument(
                "region",
                "is empty (the shop's region, e.g. DE)",
            ));
        }
        Ok(s)
    }

    /// Each engine's config. `referrer` is the PlentyONE referrer of TikTok orders.
    pub fn resolve(self, referrer: Decimal) -> Result<ShopConfigs> {
        let shop = Value::String(self.shop_id.clone());
        let region = Value::String(self.region.trim().to_ascii_uppercase());
        let referrer =
            serde_json::to_value(referrer).map_err(|e| Error::invalid_argument("referrer_id", e))?;
        let orders: OrderMappingConfig = section(
            "orders",
            self.orders,
            &[("shop_id", shop.clone()), ("referrer_id", referrer.clone())],
        )?;
        if orders.plenty_id <= 0 {
            return Err(Error::invalid_argument(
                "orders.plenty_id",
                "needs the PlentyONE client (store) id orders are created in, a positive number",
            ));
        }
        let mut product_defaults = vec![("shop_id", shop.clone()), ("region", region.clone())];
        if let Some(currency) = region_currency(&self.region) {
            product_defaults.push(("currency", Value::String(currency.into())));
        }
        let products: ProductMappingConfig = section("products", self.products, &product_defaults)?;
        let tracking: TrackingConfig = section(
            "tracking",
            self.tracking,
            &[
                ("shop_id", shop.clone()),
                ("region", region),
                ("referrer_id", referrer.clone()),
            ],
        )?;
        let aftersales: AftersalesConfig = section(
            "aftersales",
            self.aftersales,
            &[("shop_id", shop), ("referrer_id", referrer)],
        )?;
        Ok(ShopConfigs {
            orders,
            products,
            max_creates_per_day: self.max_creates_per_day.unwrap_or(100),
            tracking,
            aftersales,
        })
    }
}

impl Engines {
    /// The five engines over one store and two clients; shops are added with [`Engines::set_shop`].
    /// `owner` names this process's order leases.
    pub fn build(
        store: Arc<dyn Store>,
        tiktok: TikTokClient,
        plenty: PlentyClient,
        owner: &str,
    ) -> Result<Engines> {
        // Stock and prices sent with a create are not sent again by the stock pass.
        let pushed = PushedValues::new();
        // The oversell guard: units of TikTok orders the order import saw but PlentyONE has not got yet.
        let reservations = StoreReservations::new(store.clone());
        Ok(Engines {
            orders: Arc::new(OrderImporter::new(
                store.clone(),
                tiktok.clone(),
                plenty.clone(),
                HashMap::new(),
                owner.to_string(),
            )),
            products: Arc::new(ProductExporter::new(
                store.clone(),
                tiktok.clone(),
                plenty.clone(),
                Vec::new(),
                reservations.clone(),
                pushed.clone(),
                owner,
                ExportSettings::default(),
            )?),
            stock: Arc::new(StockPusher::new(
                store.clone(),
                tiktok.clone(),
                plenty.clone(),
                Vec::new(),
                reservations,
                pushed,
                StockSettings::default(),
            )?),
            tracking: Arc::new(TrackingEngine::new(
                store.clone(),
                tiktok.clone(),
                plenty.clone(),
                HashMap::new(),
                owner,
            )),
            aftersales: Arc::new(AftersalesEngine::new(
                store,
                tiktok,
                plenty,
                HashMap::new(),
                owner,
            )),
        })
    }

    /// Adds or replaces a shop's settings in every engine.
    pub fn set_shop(&self, configs: ShopConfigs) {
        self.orders.set_shop(configs.orders);
        self.stock.set_shop(configs.products.clone());
        self.products.set_shop(ShopExport {
            mapping: configs.products,
            max_creates_per_day: configs.max_creates_per_day,
        });
        self.tracking.set_shop(configs.tracking);
        self.aftersales.set_shop(configs.aftersales);
    }

    /// The shops with settings.
    pub fn shops(&self) -> Vec<String> {
        self.orders.shops()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tts_core::ErrorCode;

    fn resolve(v: Value) -> Result<ShopConfigs> {
        ShopSyncSettings::from_json(v)?.resolve(Decimal::new(12, 0))
    }

    #[test]
    fn sections_get_the_shop_region_currency_and_referrer_filled_in() {
        let c = resolve(json!({
            "shop_id": "s1", "region": "uk",
            "orders": {"plenty_id": 1000},
            "tracking": {"carriers": {"6": "p6"}},
            "aftersales": {"referrer_id": 13},
        }))
        .unwrap();
        assert_eq!(
            (c.orders.shop_id.as_str(), c.orders.referrer_id),
            ("s1", Decimal::new(12, 0))
        );
        assert_eq!(
            (c.products.region.as_str(), c.products.currency.as_str()),
            ("UK", "GBP")
        );
        assert_eq!(c.tracking.carriers.get(&6).map(String::as_str), Some("p6"));
        assert_eq!(
            (c.tracking.region.as_str(), c.tracking.referrer_id),
            ("UK", Decimal::new(12, 0))
        );
        // A section's own value wins over the filled-in default.
        assert_eq!(c.aftersales.referrer_id, Decimal::new(13, 0));
        assert_eq!(c.max_creates_per_day, 100);
    }

    #[test]
    fn bad_settings_name_what_to_fix() {
        let field = |v: Value| {
            let e = resolve(v).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument);
            e.field.clone().unwrap_or_default()
        };
        assert_eq!(
            field(json!({"shop_id": "s1", "region": "DE"})),
            "orders.plenty_id"
        );
        assert_eq!(
            field(
                json!({"shop_id": "s1", "region": "DE", "orders": {"plenty_id": 1}, "tracking": {"carriers": 5}})
            ),
            "tracking"
        );
        assert_eq!(
            field(json!({"shop_id": "s1", "region": "DE", "order": {}})),
            "shop"
        );
        assert_eq!(field(json!({"shop_id": " ", "region": "DE"})), "shop_id");
        assert_eq!(
            field(json!({"shop_id": "s1", "region": "DE", "orders": []})),
            "orders"
        );
    }
}
