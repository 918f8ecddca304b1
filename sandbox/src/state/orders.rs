//! Orders and packages: the status lifecycle, realistic JSON, masking, random generation.

use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};

use super::State;
use crate::envelope::{ApiError, codes};

pub const STATUSES: &[&str] = &[
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
];

const ORDER_BASE: u64 = 576_486_316_948_000_000;
const LINE_BASE: u64 = 577_000_000_000_000_000;
const PACKAGE_BASE: u64 = 1_153_000_000_000_000_000;

#[derive(Debug, Clone, Deserialize)]
pub struct Address {
    pub name: String,
    pub phone_number: String,
    pub address_line1: String,
    #[serde(default)]
    pub address_line2: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub region_code: String,
}

#[derive(Debug, Clone)]
pub struct LineItem {
    pub id: String,
    pub sku_id: String,
    pub seller_sku: String,
    pub product_id: String,
    pub product_name: String,
    pub sku_name: String,
    /// Unit price after discounts, decimal string.
    pub sale_price: String,
    pub original_price: String,
    pub package_id: Option<String>,
    pub cancelled: bool,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub shop_id: String,
    pub status: String,
    pub create_time: i64,
    pub update_time: i64,
    pub paid_time: Option<i64>,
    pub user_id: String,
    pub buyer_message: String,
    pub address: Address,
    pub currency: String,
    pub shipping_fee: String,
    pub seller_discount: String,
    pub platform_discount: String,
    pub line_items: Vec<LineItem>,
    pub packages: Vec<String>,
    pub warehouse_id: String,
    pub cancel_reason: Option<String>,
    pub cancellation_initiator: Option<String>,
    /// (description, unix millis) tracking events, oldest first.
    pub tracking: Vec<(String, i64)>,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub id: String,
    pub shop_id: String,
    pub order_id: String,
    /// PROCESSING, FULFILLING, COMPLETED, CANCELLED.
    pub status: String,
    pub line_item_ids: Vec<String>,
    pub tracking_number: String,
    pub shipping_provider_id: String,
    pub shipping_provider_name: String,
    pub handover_method: String,
    pub create_time: i64,
    pub update_time: i64,
}

/// Parses a decimal string into cents (two decimals).
pub fn cents(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<2}");
    int.parse::<i64>().unwrap_or(0) * 100 + frac[..2].parse::<i64>().unwrap_or(0)
}

pub fn money(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

impl Order {
    pub fn is_on_hold(&self) -> bool {
        self.status == "ON_HOLD"
    }

    /// The order as TikTok's Get Order Detail returns it. `unmasked` is for the control API.
    pub fn to_json(&self, packages: &std::collections::HashMap<String, Package>, unmasked: bool) -> Value {
        let sub_total: i64 = self
            .line_items
            .iter()
            .filter(|l| !l.cancelled)
            .map(|l| cents(&l.sale_price))
            .sum();
        let original: i64 = self
            .line_items
            .iter()
            .filter(|l| !l.cancelled)
            .map(|l| cents(&l.original_price))
            .sum();
        let shipping = cents(&self.shipping_fee);
        let seller_disc = cents(&self.seller_discount);
        let platform_disc = cents(&self.platform_discount);
        let total = sub_total + shipping - platform_disc;
        let a = &self.address;
        let full = format!(
            "{}, {}, {}, {} {}",
            a.address_line1, a.city, a.state, a.postal_code, a.region_code
        );
        let recipient = if !unmasked && self.is_on_hold() {
            // While ON_HOLD the address is withheld entirely (spec §4 masking rules).
            json!({ "name": "", "first_name": "", "last_name": "", "phone_number": "", "address_detail": "",
                    "address_line1": "", "address_line2": "", "address_line3": "", "address_line4": "",
                    "postal_code": "", "region_code": a.region_code, "full_address": "", "district_info": [] })
        } else {
            let masked = !unmasked && matches!(self.status.as_str(), "UNPAID" | "CANCELLED");
            let mask = |s: &str| if masked { mask_text(s) } else { s.to_string() };
            let (first, last) = a.name.split_once(' ').unwrap_or((&a.name, ""));
            json!({
                "name": mask(&a.name), "first_name": mask(first), "last_name": mask(last),
                "phone_number": mask(&a.phone_number), "address_detail": mask(&a.address_line2),
                "address_line1": mask(&a.address_line1), "address_line2": mask(&a.address_line2),
                "address_line3": "", "address_line4": "",
                "postal_code": mask(&a.postal_code), "region_code": a.region_code, "full_address": mask(&full),
                "district_info": [
                    { "address_level_name": "Country", "address_name": a.region_code, "address_level": "L0" },
                    { "address_level_name": "State", "address_name": a.state, "address_level": "L1" },
                    { "address_level_name": "City", "address_name": a.city, "address_level": "L3" },
                ],
            })
        };
        let items: Vec<Value> = self
            .line_items
            .iter()
            .map(|l| {
                let p = l.package_id.as_ref().and_then(|id| packages.get(id));
                json!({
                    "id": l.id, "sku_id": l.sku_id, "seller_sku": l.seller_sku, "product_id": l.product_id,
                    "product_name": l.product_name, "sku_name": l.sku_name,
                    "sku_image": format!("https://p16-oec-va.ibyteimg.com/tos-maliva-i-sbx/{}~tplv-origin.jpeg", l.sku_id),
                    "sale_price": l.sale_price, "original_price": l.original_price,
                    "seller_discount": "0.00", "platform_discount": "0.00", "currency": self.currency,
                    "display_status": if l.cancelled { "CANCELLED" } else { self.status.as_str() },
                    "is_gift": false,
                    "package_id": l.package_id.clone().unwrap_or_default(),
                    "package_status": p.map(|p| p.status.as_str()).unwrap_or(""),
                    "tracking_number": p.map(|p| p.tracking_number.as_str()).unwrap_or(""),
                    "shipping_provider_id": p.map(|p| p.shipping_provider_id.as_str()).unwrap_or(""),
                    "shipping_provider_name": p.map(|p| p.shipping_provider_name.as_str()).unwrap_or(""),
                    "cancel_reason": if l.cancelled { self.cancel_reason.clone().unwrap_or_default() } else { String::new() },
                })
            })
            .collect();
        let first_pkg = self.packages.first().and_then(|id| packages.get(id));
        json!({
            "id": self.id,
            "status": self.status,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "paid_time": self.paid_time,
            "user_id": self.user_id,
            // Buyer e-mails are always anonymized relay addresses.
            "buyer_email": format!("v2{}@scs2.tiktok.com", &self.user_id[self.user_id.len().saturating_sub(10)..]),
            "buyer_message": self.buyer_message,
            "recipient_address": recipient,
            "payment": {
                "currency": self.currency,
                "sub_total": money(sub_total),
                "shipping_fee": money(shipping),
                "seller_discount": money(seller_disc),
                "platform_discount": money(platform_disc),
                "total_amount": money(total),
                "original_total_product_price": money(original),
                "original_shipping_fee": money(shipping),
                "shipping_fee_seller_discount": "0.00",
                "shipping_fee_platform_discount": "0.00",
                "tax": "0.00",
                "product_tax": "0.00",
                "shipping_fee_tax": "0.00",
            },
            "line_items": items,
            "packages": self.packages.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
            "tracking_number": first_pkg.map(|p| p.tracking_number.as_str()).unwrap_or(""),
            "shipping_provider": first_pkg.map(|p| p.shipping_provider_name.as_str()).unwrap_or(""),
            "shipping_provider_id": first_pkg.map(|p| p.shipping_provider_id.as_str()).unwrap_or(""),
            "delivery_option_id": "7000000000000000101",
            "delivery_option_name": "Standard shipping",
            "delivery_type": "HOME_DELIVERY",
            "fulfillment_type": "FULFILLMENT_BY_SELLER",
            "shipping_type": "SELLER",
            "warehouse_id": self.warehouse_id,
            "is_on_hold_order": self.is_on_hold(),
            "is_cod": false,
            "is_sample_order": false,
            "is_buyer_request_cancel": false,
            "cancel_reason": self.cancel_reason.clone().unwrap_or_default(),
            "cancellation_initiator": self.cancellation_initiator.clone().unwrap_or_default(),
            "rts_sla_time": self.paid_time.map(|t| t + 3 * 86_400),
            "tts_sla_time": self.paid_time.map(|t| t + 7 * 86_400),
        })
    }
}

/// `John Smith` → `J*** S****`: keeps the first character of each word.
fn mask_text(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => std::iter::once(f).chain(c.map(|_| '*')).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Package {
    /// An item of Search Packages: `id` and `status` (SDK `SearchPackageResponseDataPackages`).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "orders": [{ "id": self.order_id, "skus": [] }],
            "order_line_item_ids": self.line_item_ids,
            "tracking_number": self.tracking_number,
            "shipping_provider_id": self.shipping_provider_id,
            "shipping_provider_name": self.shipping_provider_name,
            "create_time": self.create_time,
            "update_time": self.update_time,
        })
    }

    /// Get Package Detail: `package_id` and `package_status` (SDK `GetPackageDetailResponseData`).
    pub fn detail_json(&self) -> Value {
        json!({
            "package_id": self.id,
            "package_status": self.status,
            "orders": [{ "id": self.order_id, "skus": [] }],
            "order_line_item_ids": self.line_item_ids,
            "tracking_number": self.tracking_number,
            "shipping_provider_id": self.shipping_provider_id,
            "shipping_provider_name": self.shipping_provider_name,
            "handover_method": self.handover_method,
            "create_time": self.create_time,
            "update_time": self.update_time,
        })
    }
}

/// Input of the seed/control API for a specific order.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderSeed {
    pub shop_id: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub shipping_fee: Option<String>,
    #[serde(default)]
    pub create_time: Option<i64>,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    pub line_items: Vec<LineItemSeed>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineItemSeed {
    pub sku_id: String,
    pub seller_sku: String,
    pub product_id: String,
    #[serde(default)]
    pub product_name: Option<String>,
    pub sale_price: String,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mia", "Lucas", "Sophia", "Ethan", "Amelia",
];
const LAST: &[&str] = &[
    "Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Taylor", "Clark",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Los Angeles", "California", "90012"),
    ("Austin", "Texas", "73301"),
    ("Seattle", "Washington", "98101"),
    ("Miami", "Florida", "33101"),
    ("Denver", "Colorado", "80202"),
];

impl State {
    fn currency_of(&self, shop_id: &str) -> &'static str {
        match self.shops.get(shop_id).map(|s| s.region.as_str()) {
            Some("GB") | Some("UK") => "GBP",
            Some("DE") | Some("FR") | Some("ES") | Some("IT") | Some("IE") => "EUR",
            _ => "USD",
        }
    }

    fn random_address(&mut self, region: &str) -> Address {
        let f = FIRST[self.rng.random_range(0..FIRST.len())];
        let l = LAST[self.rng.random_range(0..LAST.len())];
        let (city, state, zip) = CITIES[self.rng.random_range(0..CITIES.len())];
        let n: u32 = self.rng.random_range(1..9999);
        Address {
            name: format!("{f} {l}"),
            phone_number: format!("(+1){}", self.rng.random_range(2_000_000_000u64..9_999_999_999)),
            address_line1: format!("{n} Main Street"),
            address_line2: format!("Apt {}", self.rng.random_range(1..400)),
            city: city.into(),
            state: state.into(),
            postal_code: zip.into(),
            region_code: if region == "GB" {
                "GB".into()
            } else {
                region.into()
            },
        }
    }

    /// Creates an order from a seed (random buyer/address/items where not given).
    pub fn create_order(&mut self, seed: OrderSeed, now: i64) -> Result<String, ApiError> {
        let shop = self
            .shops
            .get(&seed.shop_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("shop", &seed.shop_id))?;
        let status = seed.status.clone().unwrap_or_else(|| "UNPAID".into());
        if !STATUSES.contains(&status.as_str()) {
            return Err(ApiError::bad_request(format!("unknown order status {status}")));
        }
        let id = match seed.id {
            Some(id) => id,
            None => self.next_id(ORDER_BASE),
        };
        let mut items = Vec::new();
        let seeds = if seed.line_items.is_empty() {
            self.random_line_items(&shop.id)
        } else {
            seed.line_items
        };
        for li in seeds {
            for _ in 0..li.quantity.max(1) {
                let lid = self.next_id(LINE_BASE);
                items.push(LineItem {
                    id: lid,
                    sku_id: li.sku_id.clone(),
                    seller_sku: li.seller_sku.clone(),
                    product_id: li.product_id.clone(),
                    product_name: li
                        .product_name
                        .clone()
                        .unwrap_or_else(|| "Sandbox product".into()),
                    sku_name: "Default".into(),
                    sale_price: li.sale_price.clone(),
                    original_price: li.sale_price.clone(),
                    package_id: None,
                    cancelled: false,
                });
            }
        }
        let address = match seed.address {
            Some(a) => a,
            None => self.random_address(&shop.region),
        };
        let user_id =
            (7_000_000_000_000_000_000u64 + self.rng.random_range(0..999_999_999_999u64)).to_string();
        let create_time = seed.create_time.unwrap_or(now);
        let order = Order {
            id: id.clone(),
            shop_id: shop.id.clone(),
            status: "UNPAID".into(),
            create_time,
            update_time: create_time,
            paid_time: None,
            user_id,
            buyer_message: String::new(),
            address,
            currency: seed.currency.unwrap_or_else(|| self.currency_of(&shop.id).into()),
            shipping_fee: seed.shipping_fee.unwrap_or_else(|| "5.99".into()),
            seller_discount: "0.00".into(),
            platform_discount: "0.00".into(),
            line_items: items,
            packages: Vec::new(),
            warehouse_id: super::catalog::warehouse_id(&shop.id, 0),
            cancel_reason: None,
            cancellation_initiator: None,
            tracking: vec![("Order placed".into(), create_time * 1000)],
        };
        self.orders.insert(id.clone(), order);
        self.emit_order_status(&id);
        if status != "UNPAID" {
            self.force_status(&id, &status, now)?;
        }
        Ok(id)
    }

    /// Line items from the shop's active products, or synthetic ones if the catalogue is empty.
    fn random_line_items(&mut self, shop_id: &str) -> Vec<LineItemSeed> {
        let mut skus: Vec<(String, String, String, String, String)> = self
            .products
            .values()
            .filter(|p| p.shop_id == shop_id && p.status == "ACTIVATE")
            .flat_map(|p| {
                let title = p.title();
                p.skus()
                    .into_iter()
                    .map(move |(sid, ssku, price)| (sid, ssku, p.id.clone(), title.clone(), price))
            })
            .collect();
        skus.sort();
        let n = self.rng.random_range(1..=3usize);
        (0..n)
            .map(|_| {
                if skus.is_empty() {
                    let k = self.rng.random_range(1..=20u32);
                    LineItemSeed {
                        sku_id: (1_729_500_000_000_000_000u64 + k as u64).to_string(),
                        seller_sku: format!("SBX-SKU-{k:03}"),
                        product_id: (1_729_400_000_000_000_000u64 + k as u64).to_string(),
                        product_name: Some(format!("Sandbox item {k}")),
                        sale_price: money(self.rng.random_range(499..9999)),
                        quantity: self.rng.random_range(1..=2),
                    }
                } else {
                    let (sid, ssku, pid, title, price) = skus[self.rng.random_range(0..skus.len())].clone();
                    LineItemSeed {
                        sku_id: sid,
                        seller_sku: ssku,
                        product_id: pid,
                        product_name: Some(title),
                        sale_price: price,
                        quantity: 1,
                    }
                }
            })
            .collect()
    }

    pub fn emit_order_status(&mut self, order_id: &str) {
        let Some(o) = self.orders.get(order_id) else {
            return;
        };
        let data = json!({
            "order_id": o.id, "order_status": o.status, "is_on_hold_order": o.is_on_hold(), "update_time": o.update_time,
        });
        let shop = o.shop_id.clone();
        self.emit(&shop, 1, data);
    }

    fn emit_package(&mut self, package_id: &str, now: i64) {
        let Some(p) = self.packages.get(package_id) else {
            return;
        };
        let data = json!({
            "sc_type": "PACKAGE_STATUS_CHANGE", "role_type": "SELLER",
            "package_list": [{ "package_id": p.id, "order_id_list": [p.order_id] }], "update_time": now,
        });
        let shop = p.shop_id.clone();
        self.emit(&shop, 4, data);
    }

    /// Sets the status, touches update_time, records tracking, emits type 1.
    pub fn set_order_status(&mut self, order_id: &str, status: &str, now: i64) {
        let Some(o) = self.orders.get_mut(order_id) else {
            return;
        };
        if o.status == status {
            return;
        }
        o.status = status.to_string();
        o.update_time = now.max(o.update_time);
        if status != "UNPAID" && o.paid_time.is_none() && status != "CANCELLED" {
            o.paid_time = Some(now);
        }
        let desc = match status {
            "AWAITING_SHIPMENT" => "Payment confirmed, awaiting shipment",
            "ON_HOLD" => "Order on hold",
            "AWAITING_COLLECTION" => "Package ready, awaiting carrier collection",
            "PARTIALLY_SHIPPING" => "Some packages shipped",
            "IN_TRANSIT" => "Package in transit",
            "DELIVERED" => "Package delivered",
            "COMPLETED" => "Order completed",
            "CANCELLED" => "Order cancelled",
            _ => "Status updated",
        };
        o.tracking.push((desc.into(), now * 1000));
        if status == "AWAITING_SHIPMENT" {
            self.ensure_processing_package(order_id, now);
        }
        if status == "ON_HOLD" && self.settings.on_hold_ms > 0 {
            self.on_hold_timers.push(order_id.to_string());
        }
        self.emit_order_status(order_id);
    }

    /// When an order becomes AWAITING_SHIPMENT TikTok creates one package for its unshipped items.
    fn ensure_processing_package(&mut self, order_id: &str, now: i64) {
        let Some(o) = self.orders.get(order_id) else {
            return;
        };
        let unassigned: Vec<String> = o
            .line_items
            .iter()
            .filter(|l| l.package_id.is_none() && !l.cancelled)
            .map(|l| l.id.clone())
            .collect();
        if unassigned.is_empty() {
            return;
        }
        let shop_id = o.shop_id.clone();
        let pid = self.next_id(PACKAGE_BASE);
        self.packages.insert(
            pid.clone(),
            Package {
                id: pid.clone(),
                shop_id,
                order_id: order_id.to_string(),
                status: "PROCESSING".into(),
                line_item_ids: unassigned.clone(),
                tracking_number: String::new(),
                shipping_provider_id: String::new(),
                shipping_provider_name: String::new(),
                handover_method: String::new(),
                create_time: now,
                update_time: now,
            },
        );
        let o = self.orders.get_mut(order_id).expect("checked above");
        for l in o.line_items.iter_mut().filter(|l| unassigned.contains(&l.id)) {
            l.package_id = Some(pid.clone());
        }
        o.packages.push(pid.clone());
        self.emit_package(&pid, now);
    }

    fn set_package_status(&mut self, package_id: &str, status: &str, now: i64) {
        if let Some(p) = self.packages.get_mut(package_id)
            && p.status != status
        {
            p.status = status.into();
            p.update_time = now;
            self.emit_package(package_id, now);
        }
    }

    fn fresh_tracking(&mut self) -> String {
        format!("SBX{}", self.rng.random_range(1_000_000_000u64..9_999_999_999))
    }

    /// Ships one package (seller: ship package / mark as shipped; control: advance).
    /// `self_shipment` = seller's own carrier with a tracking number: goes straight to IN_TRANSIT.
    pub fn ship_package(
        &mut self,
        package_id: &str,
        tracking: Option<(String, String)>,
        handover: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let p = self
            .packages
            .get(package_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("package", package_id))?;
        let order = self
            .orders
            .get(&p.order_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("order", &p.order_id))?;
        check_shippable(&order)?;
        if p.status != "PROCESSING" {
            return Err(ApiError::business(
                codes::INVALID_STATE,
                format!(
                    "Package {package_id} is {} and cannot be shipped again.",
                    p.status
                ),
            ));
        }
        let (tn, provider_id) = match &tracking {
            Some((tn, pid)) => (tn.clone(), pid.clone()),
            None => (self.fresh_tracking(), super::catalog::PROVIDERS[0].0.to_string()),
        };
        let provider_name = super::catalog::provider_name(&provider_id)
            .unwrap_or("Sandbox Carrier")
            .to_string();
        {
            let pk = self.packages.get_mut(package_id).expect("exists");
            pk.tracking_number = tn;
            pk.shipping_provider_id = provider_id;
            pk.shipping_provider_name = provider_name;
            pk.handover_method = handover.into();
        }
        self.set_package_status(package_id, "FULFILLING", now);
        self.recompute_shipping_status(&p.order_id, tracking.is_some(), now);
        Ok(())
    }

    /// Mark as shipped (own carrier): moves the given (or all unshipped) line items into a FULFILLING package.
    pub fn mark_shipped(
        &mut self,
        order_id: &str,
        line_item_ids: Option<Vec<String>>,
        tracking_number: String,
        provider_id: String,
        now: i64,
    ) -> Result<String, ApiError> {
        let order = self
            .orders
            .get(order_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("order", order_id))?;
        check_shippable(&order)?;
        let shipped: std::collections::HashSet<&String> = order
            .line_items
            .iter()
            .filter(|l| {
                l.package_id
                    .as_ref()
                    .is_some_and(|p| self.packages.get(p).is_some_and(|p| p.status != "PROCESSING"))
            })
            .map(|l| &l.id)
            .collect();
        let wanted: Vec<String> = match line_item_ids {
            Some(ids) if !ids.is_empty() => {
                for id in &ids {
                    if !order.line_items.iter().any(|l| &l.id == id) {
                        return Err(ApiError::not_found("order line item", id));
                    }
                    if shipped.contains(id) {
                        return Err(ApiError::business(
                            codes::INVALID_STATE,
                            format!("Line item {id} is already shipped."),
                        ));
                    }
                }
                ids
            }
            _ => order
                .line_items
                .iter()
                .filter(|l| !l.cancelled && !shipped.contains(&l.id))
                .map(|l| l.id.clone())
                .collect(),
        };
        if wanted.is_empty() {
            return Err(ApiError::business(
                codes::INVALID_STATE,
                "All line items of the order are already shipped.",
            ));
        }
        // Reuse the processing package if it covers exactly these items, else split a new one off.
        let processing: Option<Package> = order
            .packages
            .iter()
            .filter_map(|id| self.packages.get(id))
            .find(|p| p.status == "PROCESSING")
            .cloned();
        let pid = match processing {
            Some(p)
                if p.line_item_ids.iter().all(|id| wanted.contains(id))
                    && p.line_item_ids.len() == wanted.len() =>
            {
                p.id
            }
            other => {
                if let Some(p) = other {
                    let pk = self.packages.get_mut(&p.id).expect("exists");
                    pk.line_item_ids.retain(|id| !wanted.contains(id));
                }
                let pid = self.next_id(PACKAGE_BASE);
                self.packages.insert(
                    pid.clone(),
                    Package {
                        id: pid.clone(),
                        shop_id: order.shop_id.clone(),
                        order_id: order_id.into(),
                        status: "PROCESSING".into(),
                        line_item_ids: wanted.clone(),
                        tracking_number: String::new(),
                        shipping_provider_id: String::new(),
                        shipping_provider_name: String::new(),
                        handover_method: String::new(),
                        create_time: now,
                        update_time: now,
                    },
                );
                let o = self.orders.get_mut(order_id).expect("exists");
                o.packages.push(pid.clone());
                for l in o.line_items.iter_mut().filter(|l| wanted.contains(&l.id)) {
                    l.package_id = Some(pid.clone());
                }
                pid
            }
        };
        self.ship_package(&pid, Some((tracking_number, provider_id)), "DROP_OFF", now)?;
        Ok(pid)
    }

    /// AWAITING_COLLECTION / IN_TRANSIT once every live item is in a shipped package, else PARTIALLY_SHIPPING.
    fn recompute_shipping_status(&mut self, order_id: &str, in_transit: bool, now: i64) {
        let Some(o) = self.orders.get(order_id) else {
            return;
        };
        let all_shipped = o.line_items.iter().filter(|l| !l.cancelled).all(|l| {
            l.package_id
                .as_ref()
                .and_then(|p| self.packages.get(p))
                .is_some_and(|p| p.status != "PROCESSING")
        });
        let next = if !all_shipped {
            "PARTIALLY_SHIPPING"
        } else if in_transit {
            "IN_TRANSIT"
        } else {
            "AWAITING_COLLECTION"
        };
        self.set_order_status(order_id, next, now);
    }

    /// The control API's "advance": one realistic step forward.
    pub fn advance_order(&mut self, order_id: &str, now: i64) -> Result<String, ApiError> {
        let o = self
            .orders
            .get(order_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("order", order_id))?;
        let on_hold_region = self
            .shops
            .get(&o.shop_id)
            .is_some_and(|s| matches!(s.region.as_str(), "US" | "GB" | "UK"));
        match o.status.as_str() {
            "UNPAID" => self.set_order_status(
                order_id,
                if on_hold_region {
                    "ON_HOLD"
                } else {
                    "AWAITING_SHIPMENT"
                },
                now,
            ),
            "ON_HOLD" => self.set_order_status(order_id, "AWAITING_SHIPMENT", now),
            "AWAITING_SHIPMENT" | "PARTIALLY_SHIPPING" => {
                let pending: Vec<String> = o
                    .packages
                    .iter()
                    .filter(|id| self.packages.get(*id).is_some_and(|p| p.status == "PROCESSING"))
                    .cloned()
                    .collect();
                if pending.is_empty() {
                    self.ensure_processing_package(order_id, now);
                }
                let pending: Vec<String> = self.orders[order_id]
                    .packages
                    .iter()
                    .filter(|id| self.packages.get(*id).is_some_and(|p| p.status == "PROCESSING"))
                    .cloned()
                    .collect();
                for p in pending {
                    self.ship_package(&p, None, "PICKUP", now)?;
                }
            }
            "AWAITING_COLLECTION" => self.set_order_status(order_id, "IN_TRANSIT", now),
            "IN_TRANSIT" => {
                for p in o.packages.clone() {
                    self.set_package_status(&p, "COMPLETED", now);
                }
                self.set_order_status(order_id, "DELIVERED", now)
            }
            "DELIVERED" => self.set_order_status(order_id, "COMPLETED", now),
            s => {
                return Err(ApiError::business(
                    codes::INVALID_STATE,
                    format!("Order {order_id} is {s}: a final status."),
                ));
            }
        }
        Ok(self.orders[order_id].status.clone())
    }

    /// Drives an order forward until it reaches `target` (or cancels it). Used by seeds and the control API.
    pub fn force_status(&mut self, order_id: &str, target: &str, now: i64) -> Result<(), ApiError> {
        if !STATUSES.contains(&target) {
            return Err(ApiError::bad_request(format!("unknown order status {target}")));
        }
        if target == "CANCELLED" {
            self.cancel_order(order_id, "Cancelled by the sandbox control API", "SYSTEM", now);
            return Ok(());
        }
        let rank = |s: &str| STATUSES.iter().position(|x| *x == s).unwrap_or(0);
        for _ in 0..12 {
            let cur = self
                .orders
                .get(order_id)
                .map(|o| o.status.clone())
                .ok_or_else(|| ApiError::not_found("order", order_id))?;
            if cur == target {
                return Ok(());
            }
            if rank(&cur) > rank(target) || cur == "CANCELLED" || cur == "COMPLETED" {
                return Err(ApiError::business(
                    codes::INVALID_STATE,
                    format!("Order {order_id} is {cur}; cannot go back to {target}."),
                ));
            }
            // UNPAID → ON_HOLD only exists for US/UK; skip it when aiming past it.
            if cur == "UNPAID" && target != "ON_HOLD" {
                self.set_order_status(order_id, "AWAITING_SHIPMENT", now);
                continue;
            }
            if target == "PARTIALLY_SHIPPING" && cur == "AWAITING_SHIPMENT" {
                let o = &self.orders[order_id];
                let first = o
                    .line_items
                    .first()
                    .map(|l| l.id.clone())
                    .into_iter()
                    .collect::<Vec<_>>();
                if o.line_items.len() < 2 {
                    return Err(ApiError::bad_request(
                        "PARTIALLY_SHIPPING needs an order with at least 2 line items",
                    ));
                }
                let tn = self.fresh_tracking();
                self.mark_shipped(
                    order_id,
                    Some(first),
                    tn,
                    super::catalog::PROVIDERS[0].0.into(),
                    now,
                )?;
                continue;
            }
            self.advance_order(order_id, now)?;
        }
        Ok(())
    }

    /// End of the ON_HOLD window (timer): only if the order is still ON_HOLD.
    pub fn release_on_hold(&mut self, order_id: &str, now: i64) {
        if self.orders.get(order_id).is_some_and(|o| o.status == "ON_HOLD") {
            self.set_order_status(order_id, "AWAITING_SHIPMENT", now);
        }
    }

    pub fn cancel_order(&mut self, order_id: &str, reason: &str, initiator: &str, now: i64) {
        let pkgs = match self.orders.get_mut(order_id) {
            Some(o) => {
                o.cancel_reason = Some(reason.into());
                o.cancellation_initiator = Some(initiator.into());
                for l in o.line_items.iter_mut() {
                    l.cancelled = true;
                }
                o.packages.clone()
            }
            None => return,
        };
        for p in pkgs {
            self.set_package_status(&p, "CANCELLED", now);
        }
        self.set_order_status(order_id, "CANCELLED", now);
    }

    pub fn update_address(&mut self, order_id: &str, address: Address, now: i64) -> Result<(), ApiError> {
        let o = self
            .orders
            .get_mut(order_id)
            .ok_or_else(|| ApiError::not_found("order", order_id))?;
        o.address = address;
        o.update_time = now.max(o.update_time);
        let (shop, id) = (o.shop_id.clone(), o.id.clone());
        self.emit(&shop, 3, json!({ "order_id": id, "update_time": now }));
        Ok(())
    }
}

/// ON_HOLD orders cannot be fulfilled (21011044); only AWAITING_SHIPMENT / PARTIALLY_SHIPPING can ship.
pub fn check_shippable(o: &Order) -> Result<(), ApiError> {
    match o.status.as_str() {
        "ON_HOLD" => Err(ApiError::business(
            codes::ORDER_ON_HOLD,
            format!("Order {} is on hold (ON_HOLD) and cannot be fulfilled yet.", o.id),
        )),
        "AWAITING_SHIPMENT" | "PARTIALLY_SHIPPING" => Ok(()),
        s => Err(ApiError::business(
            codes::INVALID_STATE,
            format!("Order {} is {s} and cannot be shipped.", o.id),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn money_round_trip() {
        assert_eq!(cents("12.5"), 1250);
        assert_eq!(cents("3"), 300);
        assert_eq!(money(1999), "19.99");
        assert_eq!(mask_text("John Smith"), "J*** S****");
    }
}
