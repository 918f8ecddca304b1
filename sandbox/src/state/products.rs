//! Products: validation (spec §8), the audit lifecycle, inventory and prices.

use serde_json::{Map, Value, json};

use super::{State, catalog};
use crate::envelope::{ApiError, codes};

const PRODUCT_BASE: u64 = 1_729_382_000_000_000_000;
const SKU_BASE: u64 = 1_729_383_000_000_000_000;

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub shop_id: String,
    /// DRAFT, PENDING, FAILED, ACTIVATE, SELLER_DEACTIVATED, PLATFORM_DEACTIVATED, FREEZE, DELETED.
    pub status: String,
    /// The product as last written (title, description, category_id, skus with ids, ...).
    pub body: Value,
    pub create_time: i64,
    pub update_time: i64,
    /// Bumped by every create/edit so a stale audit timer does nothing.
    pub audit_version: u64,
    pub audit_failed_reasons: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub uri: String,
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub use_case: String,
}

impl Image {
    pub fn to_json(&self) -> Value {
        json!({ "uri": self.uri, "url": self.url, "width": self.width, "height": self.height, "use_case": self.use_case })
    }
}

impl Product {
    pub fn title(&self) -> String {
        self.body["title"].as_str().unwrap_or("").to_string()
    }

    /// (sku_id, seller_sku, price amount)
    pub fn skus(&self) -> Vec<(String, String, String)> {
        self.body["skus"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s["id"].as_str().unwrap_or("").to_string(),
                            s["seller_sku"].as_str().unwrap_or("").to_string(),
                            s["price"]["amount"].as_str().unwrap_or("0").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn detail_json(&self) -> Value {
        let mut v = self.body.clone();
        let cat = v["category_id"].as_str().unwrap_or("").to_string();
        let m = v.as_object_mut().expect("product body is an object");
        m.insert("id".into(), json!(self.id));
        m.insert("status".into(), json!(self.status));
        m.insert("create_time".into(), json!(self.create_time));
        m.insert("update_time".into(), json!(self.update_time));
        m.insert("category_chains".into(), json!(catalog::category_chain(&cat)));
        m.insert(
            "audit".into(),
            json!({ "status": match self.status.as_str() { "PENDING" => "AUDITING", "FAILED" => "REJECTED", _ => "APPROVED" } }),
        );
        m.insert("audit_failed_reasons".into(), json!(self.audit_failed_reasons));
        // The write shape becomes the read shape of Get Product (SDK `GetProductResponseData`).
        for key in [
            "__region",
            "idempotency_key",
            "save_mode",
            "category_id",
            "category_version",
            "listing_platforms",
        ] {
            m.remove(key);
        }
        if let Some(brand) = m.remove("brand_id") {
            m.insert("brand".into(), json!({ "id": brand }));
        }
        if let Some(ids) = m.remove("delivery_option_ids") {
            let list: Vec<Value> = ids
                .as_array()
                .into_iter()
                .flatten()
                .map(|id| json!({ "id": id, "is_available": true }))
                .collect();
            m.insert("delivery_options".into(), json!(list));
        }
        for sku in m
            .get_mut("skus")
            .and_then(|s| s.as_array_mut())
            .into_iter()
            .flatten()
        {
            sku["price"] = read_price(&sku["price"]);
        }
        v
    }

    pub fn summary_json(&self) -> Value {
        let skus: Vec<Value> = self.body["skus"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| json!({ "id": s["id"], "seller_sku": s["seller_sku"], "price": read_price(&s["price"]), "inventory": s["inventory"] }))
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "id": self.id, "title": self.title(), "status": self.status, "skus": skus,
            "create_time": self.create_time, "update_time": self.update_time,
            "sales_regions": [self.body["__region"].as_str().unwrap_or("US")],
        })
    }
}

/// A SKU price as products are read: the written `{amount, currency}` becomes `{currency, sale_price,
/// tax_exclusive_price}` (SDK `GetProductResponseDataSkusPrice`; the sandbox has no tax).
fn read_price(written: &Value) -> Value {
    let amount = written["amount"].clone();
    json!({ "currency": written["currency"], "sale_price": amount, "tax_exclusive_price": amount })
}

fn title_range(region: &str) -> (usize, usize) {
    match region {
        "DE" | "ES" | "FR" | "IE" | "IT" | "JP" | "UK" | "GB" | "US" => (1, 255),
        "BR" | "MX" => (1, 300),
        _ => (25, 255),
    }
}

fn sku_limit(region: &str) -> usize {
    match region {
        "BR" | "JP" | "MX" | "UK" | "GB" | "US" | "DE" | "ES" | "FR" | "IE" | "IT" | "NL" | "PL" | "AT"
        | "BE" => 300,
        _ => 100,
    }
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

fn is_decimal(s: &str) -> bool {
    let mut parts = s.split('.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    parts.next().is_none()
        && !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.len() <= 2 && f.bytes().all(|b| b.is_ascii_digit()))
}

impl State {
    /// Validates a full product body against spec §8 for a shop's region.
    pub fn validate_product(&self, shop_id: &str, b: &Value, listing: bool) -> Result<(), ApiError> {
        let region = self.shops.get(shop_id).map(|s| s.region.as_str()).unwrap_or("US");
        let title = b["title"].as_str().ok_or_else(|| invalid("title is required."))?;
        let (lo, hi) = title_range(region);
        let n = title.chars().count();
        if n < lo || n > hi {
            return Err(invalid(format!(
                "title must be {lo}-{hi} characters for region {region} (got {n})."
            )));
        }
        if title.chars().any(|c| c.is_control()) || title.contains('<') {
            return Err(invalid("title must not contain control characters or HTML."));
        }
        if b["description"]
            .as_str()
            .is_some_and(|d| d.chars().count() > 10_000)
        {
            return Err(invalid("description must be at most 10000 characters."));
        }
        let cat = b["category_id"]
            .as_str()
            .ok_or_else(|| invalid("category_id is required."))?;
        let c =
            catalog::category(cat).ok_or_else(|| invalid(format!("category_id {cat} does not exist.")))?;
        if !c.is_leaf {
            return Err(invalid(format!("category_id {cat} is not a leaf category.")));
        }
        if let Some(brand) = b["brand_id"].as_str().filter(|s| !s.is_empty())
            && !self.brands.iter().any(|x| x.id == brand && x.authorized)
        {
            return Err(invalid(format!(
                "brand_id {brand} does not exist or is not authorized for this shop."
            )));
        }
        let images = b["main_images"].as_array().map(|a| a.as_slice()).unwrap_or(&[]);
        if listing && images.is_empty() {
            return Err(invalid("main_images: at least 1 image is required."));
        }
        if images.len() > 9 {
            return Err(invalid(format!(
                "main_images: at most 9 images (got {}).",
                images.len()
            )));
        }
        for img in images {
            let uri = img["uri"].as_str().unwrap_or("");
            if !self.images.contains_key(uri) {
                return Err(invalid(format!(
                    "main_images: uri {uri:?} was not uploaded with Upload Product Image."
                )));
            }
        }
        if listing {
            let attrs = b["product_attributes"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or(&[]);
            for a in catalog::attributes_of(cat).filter(|a| a.required && a.kind == "PRODUCT_PROPERTY") {
                let present = attrs.iter().any(|x| {
                    x["id"].as_str() == Some(a.id) && x["values"].as_array().is_some_and(|v| !v.is_empty())
                });
                if !present {
                    return Err(invalid(format!(
                        "product_attributes: required attribute {} ({}) is missing.",
                        a.id, a.name
                    )));
                }
            }
        }
        let skus = b["skus"].as_array().ok_or_else(|| invalid("skus is required."))?;
        if skus.is_empty() {
            return Err(invalid("skus: at least 1 SKU is required."));
        }
        let limit = sku_limit(region);
        if skus.len() > limit {
            return Err(invalid(format!(
                "skus: at most {limit} SKUs for region {region} (got {}).",
                skus.len()
            )));
        }
        let warehouses = [
            catalog::warehouse_id(shop_id, 0),
            catalog::warehouse_id(shop_id, 1),
        ];
        let mut seen = std::collections::HashSet::new();
        for (i, s) in skus.iter().enumerate() {
            let ss = s["seller_sku"].as_str().unwrap_or("");
            let len = ss.chars().count();
            if !(1..=50).contains(&len) || ss.chars().any(char::is_whitespace) {
                return Err(invalid(format!(
                    "skus[{i}].seller_sku must be 1-50 characters without spaces (got {ss:?})."
                )));
            }
            if !seen.insert(ss.to_string()) {
                return Err(invalid(format!("skus[{i}].seller_sku {ss:?} is duplicated.")));
            }
            let amount = s["price"]["amount"].as_str().unwrap_or("");
            if !is_decimal(amount) || super::orders::cents(amount) <= 0 {
                return Err(invalid(format!(
                    "skus[{i}].price.amount must be a positive decimal string (got {amount:?})."
                )));
            }
            if s["price"]["currency"].as_str().is_none() {
                return Err(invalid(format!("skus[{i}].price.currency is required.")));
            }
            let inv = s["inventory"].as_array().map(|a| a.as_slice()).unwrap_or(&[]);
            if inv.is_empty() {
                return Err(invalid(format!("skus[{i}].inventory is required.")));
            }
            for (j, w) in inv.iter().enumerate() {
                let q = w["quantity"].as_i64().unwrap_or(-1);
                if !(1..=99_999).contains(&q) {
                    return Err(invalid(format!(
                        "skus[{i}].inventory[{j}].quantity must be 1..99999 (got {}).",
                        w["quantity"]
                    )));
                }
                let wid = w["warehouse_id"].as_str().unwrap_or("");
                if !warehouses.iter().any(|x| x == wid) {
                    return Err(invalid(format!(
                        "skus[{i}].inventory[{j}].warehouse_id {wid:?} is not a warehouse of this shop."
                    )));
                }
            }
        }
        Ok(())
    }

    /// Assigns SKU ids (keeping existing ids by seller_sku) and normalizes the stored body.
    pub(crate) fn assign_sku_ids(&mut self, body: &mut Value, old: Option<&Value>) {
        let old_ids: Vec<(String, String)> = old
            .and_then(|o| o["skus"].as_array())
            .map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s["seller_sku"].as_str().unwrap_or("").into(),
                            s["id"].as_str().unwrap_or("").into(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some(skus) = body["skus"].as_array_mut() {
            for s in skus {
                let ss = s["seller_sku"].as_str().unwrap_or("").to_string();
                let id = match old_ids.iter().find(|(k, _)| *k == ss) {
                    Some((_, id)) => id.clone(),
                    None => self.next_id(SKU_BASE),
                };
                s["id"] = json!(id);
            }
        }
    }

    fn sku_result(body: &Value) -> Value {
        let attrs = |s: &Value| -> Vec<Value> {
            s["sales_attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| json!({ "id": a["id"], "value_id": a["value_id"] }))
                .collect()
        };
        json!(
            body["skus"]
                .as_array()
                .map(|a| a
                    .iter()
                    .map(|s| json!({
                        "id": s["id"], "seller_sku": s["seller_sku"], "sales_attributes": attrs(s),
                    }))
                    .collect::<Vec<_>>())
                .unwrap_or_default()
        )
    }

    fn start_audit(&mut self, id: &str, now: i64) {
        let p = self.products.get_mut(id).expect("exists");
        p.audit_version += 1;
        p.status = "PENDING".into();
        p.update_time = now;
        p.audit_failed_reasons.clear();
        let version = p.audit_version;
        let shop = p.shop_id.clone();
        self.emit(
            &shop,
            5,
            json!({ "product_id": id, "status": "PENDING", "suspended_reason": "", "update_time": now }),
        );
        self.audits.push((id.to_string(), version));
    }

    pub fn create_product(&mut self, shop_id: &str, mut body: Value, now: i64) -> Result<Value, ApiError> {
        if !body.is_object() {
            return Err(invalid("the request body must be a JSON object."));
        }
        let listing = body["save_mode"].as_str() != Some("AS_DRAFT");
        self.validate_product(shop_id, &body, listing)?;
        let region = self
            .shops
            .get(shop_id)
            .map(|s| s.region.clone())
            .unwrap_or_default();
        body["__region"] = json!(region);
        self.assign_sku_ids(&mut body, None);
        let id = self.next_id(PRODUCT_BASE);
        let skus = Self::sku_result(&body);
        self.products.insert(
            id.clone(),
            Product {
                id: id.clone(),
                shop_id: shop_id.into(),
                status: "DRAFT".into(),
                body,
                create_time: now,
                update_time: now,
                audit_version: 0,
                audit_failed_reasons: Vec::new(),
            },
        );
        if listing {
            self.start_audit(&id, now);
        }
        Ok(json!({ "product_id": id, "skus": skus, "warnings": [] }))
    }

    pub fn product_mut(&mut self, shop_id: &str, id: &str) -> Result<&mut Product, ApiError> {
        self.products.get_mut(id).filter(|p| p.shop_id == shop_id && p.status != "DELETED").ok_or_else(|| {
            ApiError::business(
                codes::PRODUCT_NOT_IN_SHOP,
                format!("You cannot edit the specified product(s) as it isn't listed in your account or shop. ({id})"),
            )
        })
    }

    /// PUT: full replace; price/inventory of a SKU are kept when omitted (spec §4).
    pub fn edit_product(
        &mut self,
        shop_id: &str,
        id: &str,
        mut body: Value,
        partial: bool,
        now: i64,
    ) -> Result<Value, ApiError> {
        let old = self.product_mut(shop_id, id)?.body.clone();
        if !body.is_object() {
            return Err(invalid("the request body must be a JSON object."));
        }
        if partial {
            let mut merged: Map<String, Value> = old.as_object().cloned().unwrap_or_default();
            for (k, v) in body.as_object().expect("checked").clone() {
                merged.insert(k, v);
            }
            body = Value::Object(merged);
        }
        if let Some(skus) = body["skus"].as_array_mut() {
            for s in skus.iter_mut() {
                let prev = old["skus"]
                    .as_array()
                    .and_then(|a| a.iter().find(|o| o["seller_sku"] == s["seller_sku"]));
                if let Some(prev) = prev {
                    if s.get("price").is_none() {
                        s["price"] = prev["price"].clone();
                    }
                    if s.get("inventory").is_none() {
                        s["inventory"] = prev["inventory"].clone();
                    }
                }
            }
        }
        self.validate_product(shop_id, &body, true)?;
        body["__region"] = old["__region"].clone();
        self.assign_sku_ids(&mut body, Some(&old));
        let skus = Self::sku_result(&body);
        self.product_mut(shop_id, id)?.body = body;
        self.start_audit(id, now);
        Ok(json!({ "product_id": id, "skus": skus, "warnings": [], "audit": { "status": "AUDITING" } }))
    }

    /// Audit result after the configured delay. Stale versions (an edit came in between) are ignored.
    pub fn complete_audit(&mut self, id: &str, version: u64, now: i64) {
        let keyword = self.settings.audit_reject_keyword.clone();
        let Some(p) = self.products.get_mut(id) else {
            return;
        };
        if p.audit_version != version || p.status != "PENDING" {
            return;
        }
        let rejected = !keyword.is_empty() && p.title().contains(&keyword);
        p.update_time = now;
        if rejected {
            p.status = "FAILED".into();
            p.audit_failed_reasons = vec![json!({
                "position": "title",
                "reasons": [format!("The title contains a prohibited word ({keyword}).")],
                "suggestions": ["Remove the prohibited word from the title and resubmit."],
            })];
        } else {
            p.status = "ACTIVATE".into();
        }
        let (shop, status, reasons) = (
            p.shop_id.clone(),
            p.status.clone(),
            p.audit_failed_reasons.clone(),
        );
        self.emit(&shop, 37, json!({ "product_id": id, "status": status, "audit_failed_reasons": reasons, "update_time": now }));
        self.emit(
            &shop,
            5,
            json!({ "product_id": id, "status": status, "suspended_reason": "", "update_time": now }),
        );
    }

    /// Bulk status change (activate / deactivate / delete / recover). Unknown ids go to `errors`.
    pub fn bulk_status(&mut self, shop_id: &str, ids: &[String], action: &str, now: i64) -> Value {
        let mut errors = Vec::new();
        for id in ids {
            let Some(p) = self.products.get_mut(id).filter(|p| p.shop_id == shop_id) else {
                errors.push(json!({ "code": codes::PRODUCT_NOT_IN_SHOP, "message": "The product isn't listed in your shop.", "detail": { "product_id": id } }));
                continue;
            };
            let next = match (action, p.status.as_str()) {
                ("delete", s) if s != "DELETED" => "DELETED",
                ("recover", "DELETED") => "SELLER_DEACTIVATED",
                ("deactivate", "ACTIVATE") => "SELLER_DEACTIVATED",
                ("activate", "SELLER_DEACTIVATED") => "ACTIVATE",
                (_, s) => {
                    errors.push(json!({ "code": codes::INVALID_STATE, "message": format!("Cannot {action} a product in status {s}."), "detail": { "product_id": id } }));
                    continue;
                }
            };
            p.status = next.into();
            p.update_time = now;
            let shop = p.shop_id.clone();
            self.emit(
                &shop,
                5,
                json!({ "product_id": id, "status": next, "suspended_reason": "", "update_time": now }),
            );
        }
        json!({ "errors": errors })
    }

    pub fn update_inventory(
        &mut self,
        shop_id: &str,
        id: &str,
        body: &Value,
        now: i64,
    ) -> Result<Value, ApiError> {
        let warehouses = [
            catalog::warehouse_id(shop_id, 0),
            catalog::warehouse_id(shop_id, 1),
        ];
        let p = self.product_mut(shop_id, id)?;
        let updates = body["skus"]
            .as_array()
            .ok_or_else(|| invalid("skus is required."))?;
        for u in updates {
            let sid = u["id"].as_str().unwrap_or("");
            let inv = u["inventory"]
                .as_array()
                .ok_or_else(|| invalid(format!("skus[{sid}].inventory is required.")))?;
            for w in inv {
                let q = w["quantity"].as_i64().unwrap_or(-1);
                if !(0..=99_999).contains(&q) {
                    return Err(invalid(format!(
                        "quantity must be 0..99999 (got {}).",
                        w["quantity"]
                    )));
                }
                if !warehouses
                    .iter()
                    .any(|x| Some(x.as_str()) == w["warehouse_id"].as_str())
                {
                    return Err(invalid(format!(
                        "warehouse_id {} is not a warehouse of this shop.",
                        w["warehouse_id"]
                    )));
                }
            }
            let sku = p.body["skus"]
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|s| s["id"].as_str() == Some(sid)))
                .ok_or_else(|| ApiError::not_found("sku", sid))?;
            sku["inventory"] = json!(inv);
        }
        p.update_time = now;
        Ok(json!({ "errors": [] }))
    }

    pub fn update_prices(
        &mut self,
        shop_id: &str,
        id: &str,
        body: &Value,
        now: i64,
    ) -> Result<Value, ApiError> {
        let p = self.product_mut(shop_id, id)?;
        let updates = body["skus"]
            .as_array()
            .ok_or_else(|| invalid("skus is required."))?;
        for u in updates {
            let sid = u["id"].as_str().unwrap_or("");
            let amount = u["price"]["amount"].as_str().unwrap_or("");
            if !is_decimal(amount) {
                return Err(invalid(format!(
                    "price.amount must be a decimal string (got {amount:?})."
                )));
            }
            let sku = p.body["skus"]
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|s| s["id"].as_str() == Some(sid)))
                .ok_or_else(|| ApiError::not_found("sku", sid))?;
            sku["price"] = u["price"].clone();
            if let Some(lp) = u.get("list_price") {
                sku["list_price"] = lp.clone();
            }
        }
        p.update_time = now;
        Ok(json!({}))
    }

    pub fn inventory_search(&self, shop_id: &str, body: &Value) -> Result<Value, ApiError> {
        let pids: Vec<&str> = body["product_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let sids: Vec<&str> = body["sku_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        if pids.is_empty() == sids.is_empty() {
            return Err(invalid(
                "exactly one of product_ids (≤100) or sku_ids (≤600) is required.",
            ));
        }
        if pids.len() > 100 || sids.len() > 600 {
            return Err(invalid("too many ids: product_ids ≤ 100, sku_ids ≤ 600."));
        }
        let mut out = Vec::new();
        let mut ps: Vec<&Product> = self
            .products
            .values()
            .filter(|p| p.shop_id == shop_id && p.status != "DELETED")
            .collect();
        ps.sort_by(|a, b| a.id.cmp(&b.id));
        for p in ps {
            let skus: Vec<Value> = p.body["skus"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| pids.contains(&p.id.as_str()) || sids.contains(&s["id"].as_str().unwrap_or("")))
                .map(|s| {
                    let wh: Vec<Value> = s["inventory"].as_array().into_iter().flatten().map(|w| json!({
                        "warehouse_id": w["warehouse_id"], "available_quantity": w["quantity"], "committed_quantity": 0,
                    })).collect();
                    let total: i64 = s["inventory"].as_array().into_iter().flatten().map(|w| w["quantity"].as_i64().unwrap_or(0)).sum();
                    json!({ "id": s["id"], "seller_sku": s["seller_sku"], "total_available_quantity": total,
                            "total_committed_quantity": 0, "warehouse_inventory": wh })
                })
                .collect();
            if !skus.is_empty() {
                out.push(json!({ "product_id": p.id, "skus": skus }));
            }
        }
        Ok(json!({ "inventory": out }))
    }
}

/// Width/height from a PNG, GIF or JPEG header (enough to validate uploads; pixels are not decoded).
pub fn image_size(b: &[u8]) -> Option<(u32, u32, &'static str)> {
    if b.len() >= 24 && b.starts_with(b"\x89PNG\r\n\x1a\n") {
        let w = u32::from_be_bytes(b[16..20].try_into().ok()?);
        let h = u32::from_be_bytes(b[20..24].try_into().ok()?);
        return Some((w, h, "png"));
    }
    if b.len() >= 10 && (b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) {
        return Some((
            u16::from_le_bytes([b[6], b[7]]) as u32,
            u16::from_le_bytes([b[8], b[9]]) as u32,
            "gif",
        ));
    }
    if b.len() >= 4 && b[0] == 0xFF && b[1] == 0xD8 {
        let mut i = 2;
        while i + 9 < b.len() {
            if b[i] != 0xFF {
                return None;
            }
            let marker = b[i + 1];
            let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
            if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                let h = u16::from_be_bytes([b[i + 5], b[i + 6]]) as u32;
                let w = u16::from_be_bytes([b[i + 7], b[i + 8]]) as u32;
                return Some((w, h, "jpeg"));
            }
            i += 2 + len;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::image_size;

    #[test]
    fn reads_png_gif_and_jpeg_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(image_size(&png), Some((640, 480, "png")));
        assert_eq!(image_size(b"GIF89a\x20\x03\x58\x02"), Some((800, 600, "gif")));
        // SOI, an APP0 segment of length 4, then SOF0 with height 300 and width 400.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x01,
            0x90, 0x03,
        ];
        assert_eq!(image_size(&jpeg), Some((400, 300, "jpeg")));
        assert_eq!(image_size(b"not an image"), None);
    }
}
