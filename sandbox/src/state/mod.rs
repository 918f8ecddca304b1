//! All mutable sandbox state, behind one mutex in `app::Sandbox`. Handlers mutate it and push
//! webhook events and audit jobs into the outboxes, which the caller drains after unlocking.

pub mod aftersales;
pub mod apps;
pub mod catalog;
pub mod orders;
pub mod products;

use std::collections::{HashMap, HashSet};

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

use crate::config::Config;
use apps::{App, AuthCode, Seller, Shop, Token};

/// A state change to announce by webhook.
#[derive(Debug, Clone)]
pub struct Event {
    pub shop_id: String,
    pub kind: u32,
    pub data: Value,
    /// Deliver only to this app (seller deauthorization); otherwise to every app authorized by the shop.
    pub only_app: Option<String>,
}

/// Event type names used by the events API (`event_type`) and their numbers (spec §6).
pub const EVENT_TYPES: &[(&str, u32)] = &[
    ("ORDER_STATUS_CHANGE", 1),
    ("RECIPIENT_ADDRESS_UPDATE", 3),
    ("PACKAGE_UPDATE", 4),
    ("PRODUCT_STATUS_CHANGE", 5),
    ("SELLER_DEAUTHORIZATION", 6),
    ("UPCOMING_AUTHORIZATION_EXPIRATION", 7),
    ("CANCELLATION_STATUS_CHANGE", 11),
    ("RETURN_STATUS_CHANGE", 12),
    ("PRODUCT_AUDIT_STATUS_CHANGE", 37),
];

pub fn event_name(kind: u32) -> &'static str {
    EVENT_TYPES
        .iter()
        .find(|(_, n)| *n == kind)
        .map(|(s, _)| *s)
        .unwrap_or("UNKNOWN")
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub address: String,
    pub create_time: i64,
    pub update_time: i64,
}

/// Settings handlers read (copied from `Config`, some changeable at run time).
#[derive(Debug, Clone)]
pub struct Settings {
    pub auth_code_ttl_ms: i64,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub audit_reject_keyword: String,
    /// 0 = ON_HOLD lasts until advanced.
    pub on_hold_ms: u64,
}

pub struct State {
    pub settings: Settings,
    pub apps: HashMap<String, App>,
    pub sellers: HashMap<String, Seller>,
    pub shops: HashMap<String, Shop>,
    pub cipher_index: HashMap<String, String>,
    /// Active (app_key, open_id) authorizations.
    pub authorizations: HashSet<(String, String)>,
    pub tokens: HashMap<String, Token>,
    pub refresh_index: HashMap<String, String>,
    pub codes: HashMap<String, AuthCode>,
    pub orders: HashMap<String, orders::Order>,
    pub packages: HashMap<String, orders::Package>,
    pub cancellations: HashMap<String, aftersales::Cancellation>,
    pub returns: HashMap<String, aftersales::ReturnRequest>,
    pub products: HashMap<String, products::Product>,
    pub images: HashMap<String, products::Image>,
    pub brands: Vec<catalog::Brand>,
    /// (app_key, shop_id, event_type) → subscription.
    pub subscriptions: HashMap<(String, String, String), Subscription>,
    /// (app_key, shop_id, operation, idempotency_key) → the first response's data.
    pub idempotency: HashMap<(String, String, String, String), Value>,
    seq: u64,
    pub rng: StdRng,
    pub events: Vec<Event>,
    /// (product_id, audit_version) jobs to schedule.
    pub audits: Vec<(String, u64)>,
    /// Orders that went ON_HOLD and release themselves after `settings.on_hold_ms`.
    pub on_hold_timers: Vec<String>,
    /// Bumped by every state-changing call; cached JSON of an older generation is stale.
    pub generation: u64,
    /// order id → (generation, masked order JSON).
    order_cache: HashMap<String, (u64, std::sync::Arc<str>)>,
}

impl State {
    pub fn new(cfg: &Config) -> Self {
        let mut s = State {
            settings: Settings {
                auth_code_ttl_ms: ((cfg.auth_code_ttl_secs as f64 * 1000.0) / cfg.time_scale) as i64,
                access_token_ttl_secs: cfg.access_token_ttl_secs,
                refresh_token_ttl_secs: cfg.refresh_token_ttl_secs,
                audit_reject_keyword: cfg.audit_reject_keyword.clone(),
                on_hold_ms: ((cfg.on_hold_secs as f64 * 1000.0) / cfg.time_scale) as u64,
            },
            apps: HashMap::new(),
            sellers: HashMap::new(),
            shops: HashMap::new(),
            cipher_index: HashMap::new(),
            authorizations: HashSet::new(),
            tokens: HashMap::new(),
            refresh_index: HashMap::new(),
            codes: HashMap::new(),
            orders: HashMap::new(),
            packages: HashMap::new(),
            cancellations: HashMap::new(),
            returns: HashMap::new(),
            products: HashMap::new(),
            images: HashMap::new(),
            brands: catalog::default_brands(),
            subscriptions: HashMap::new(),
            idempotency: HashMap::new(),
            seq: 0,
            rng: StdRng::seed_from_u64(cfg.random_seed),
            events: Vec::new(),
            audits: Vec::new(),
            on_hold_timers: Vec::new(),
            generation: 0,
            order_cache: HashMap::new(),
        };
        let a = &cfg.app;
        s.add_app(App {
            app_key: a.app_key.clone(),
            app_secret: a.app_secret.clone(),
            service_id: a.service_id.clone(),
            redirect_uri: a.redirect_uri.clone(),
            scopes: a.scopes.clone(),
        });
        for (seller, shops) in apps::default_sellers() {
            // The seeded sellers have already installed the seeded app, so webhooks flow before any OAuth.
            s.authorizations
                .insert((a.app_key.clone(), seller.open_id.clone()));
            s.add_seller(seller, shops);
        }
        s
    }

    /// A fresh numeric id: `base + sequence`, as a string (TikTok ids are 64-bit decimal strings).
    pub fn next_id(&mut self, base: u64) -> String {
        self.seq += 1;
        (base + self.seq).to_string()
    }

    /// The order's API JSON, serialized once per state generation.
    pub fn order_json_cached(&mut self, id: &str, shop_id: &str) -> Option<std::sync::Arc<str>> {
        let o = self.orders.get(id).filter(|o| o.shop_id == shop_id)?;
        if let Some((g, j)) = self.order_cache.get(id)
            && *g == self.generation
        {
            return Some(j.clone());
        }
        let j: std::sync::Arc<str> = o.to_json(&self.packages, false).to_string().into();
        self.order_cache
            .insert(id.to_string(), (self.generation, j.clone()));
        Some(j)
    }

    pub fn add_app(&mut self, app: App) {
        self.apps.insert(app.app_key.clone(), app);
    }

    pub fn add_seller(&mut self, mut seller: Seller, shops: Vec<Shop>) {
        for shop in shops {
            if !seller.shops.contains(&shop.id) {
                seller.shops.push(shop.id.clone());
            }
            self.cipher_index.insert(shop.cipher.clone(), shop.id.clone());
            self.shops.insert(shop.id.clone(), shop);
        }
        self.sellers.insert(seller.open_id.clone(), seller);
    }

    pub fn seller_of_shop(&self, shop_id: &str) -> Option<&Seller> {
        self.sellers
            .values()
            .find(|s| s.shops.iter().any(|id| id == shop_id))
    }

    pub fn emit(&mut self, shop_id: &str, kind: u32, data: Value) {
        self.events.push(Event {
            shop_id: shop_id.to_string(),
            kind,
            data,
            only_app: None,
        });
    }

    /// Issues a token pair for an (app, seller) and records the authorization.
    pub fn issue_token(&mut self, app_key: &str, open_id: &str, now: i64) -> Token {
        let scopes = self
            .apps
            .get(app_key)
            .map(|a| a.scopes.clone())
            .unwrap_or_default();
        let t = Token {
            access_token: apps::random_token("TTP_", 40),
            refresh_token: apps::random_token("TTP_", 40),
            app_key: app_key.to_string(),
            open_id: open_id.to_string(),
            access_expire: now + self.settings.access_token_ttl_secs,
            refresh_expire: now + self.settings.refresh_token_ttl_secs,
            revoked: false,
            superseded: false,
            refresh_used: false,
            scopes,
        };
        self.authorizations
            .insert((app_key.to_string(), open_id.to_string()));
        self.refresh_index
            .insert(t.refresh_token.clone(), t.access_token.clone());
        self.tokens.insert(t.access_token.clone(), t.clone());
        t
    }

    pub fn token_json(&self, t: &Token) -> Value {
        let seller = self.sellers.get(&t.open_id);
        serde_json::json!({
            "access_token": t.access_token,
            "access_token_expire_in": t.access_expire,
            "refresh_token": t.refresh_token,
            "refresh_token_expire_in": t.refresh_expire,
            "open_id": t.open_id,
            "seller_name": seller.map(|s| s.name.as_str()).unwrap_or(""),
            "seller_base_region": seller.map(|s| s.base_region.as_str()).unwrap_or(""),
            "user_type": 0,
            "granted_scopes": t.scopes,
        })
    }

    /// Revokes every token of (app, seller) and emits SELLER_DEAUTHORIZATION (type 6) per shop.
    pub fn deauthorize(&mut self, app_key: &str, open_id: &str) -> usize {
        let mut n = 0;
        for t in self.tokens.values_mut() {
            if t.app_key == app_key && t.open_id == open_id && !t.revoked {
                t.revoked = true;
                n += 1;
            }
        }
        self.authorizations
            .remove(&(app_key.to_string(), open_id.to_string()));
        let shops = self
            .sellers
            .get(open_id)
            .map(|s| s.shops.clone())
            .unwrap_or_default();
        for shop_id in shops {
            self.events.push(Event {
                shop_id,
                kind: 6,
                data: serde_json::json!({ "message": "The seller has deauthorized the app." }),
                only_app: Some(app_key.to_string()),
            });
        }
        n
    }
}
