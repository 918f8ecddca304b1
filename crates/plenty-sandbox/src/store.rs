//! Everything besides the catalogue: orders (with external order id search via property 7, status,
//! cancel, shipping packages, returns as child orders of type 3), contacts and addresses, referrers,
//! payments. Records are kept as the JSON they were created from, plus the ids the server assigns.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::catalog::Catalog;
use crate::clock::w3c;

/// A request the server refuses, with the status and body to answer.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub body: Value,
}

impl Refusal {
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Refusal {
            status: 404,
            body: json!({ "error": { "code": 404, "message": format!("{what} {id} not found") } }),
        }
    }

    /// plentymarkets' validation answer: `{"validation_errors": {"field": ["message"]}}`.
    pub fn invalid(field: &str, message: &str) -> Self {
        Refusal {
            status: 422,
            body: json!({ "message": "The given data was invalid.", "validation_errors": { field: [message] } }),
        }
    }
}

pub type Answer = Result<Value, Refusal>;

pub fn status_name(status: f64) -> &'static str {
    match status {
        s if s < 2.0 => "Unvollständige Daten",
        s if s < 4.0 => "Warten auf Zahlung",
        s if s < 5.0 => "In Versandvorbereitung",
        s if s < 6.0 => "Freigabe Versand",
        s if s < 7.0 => "Gerade im Versand",
        s if s < 8.0 => "Warenausgang gebucht",
        s if s < 9.0 => "Storniert",
        s if s < 10.0 => "Retoure",
        _ => "Sonstiger Status",
    }
}

pub struct Store {
    pub catalog: Catalog,
    pub orders: BTreeMap<i64, Value>,
    pub packages: BTreeMap<i64, Vec<Value>>,
    pub contacts: BTreeMap<i64, Value>,
    pub addresses: BTreeMap<i64, Value>,
    pub referrers: Vec<Value>,
    pub payments: BTreeMap<i64, Value>,
    pub payment_links: BTreeSet<(i64, i64)>,
    pub payment_methods: Vec<Value>,
    next_order: i64,
    next_order_item: i64,
    next_package: i64,
    next_contact: i64,
    next_address: i64,
    next_payment: i64,
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

impl Store {
    pub fn new(items: usize, now: i64) -> Store {
        Store {
            catalog: Catalog::seeded(items, now),
            orders: BTreeMap::new(),
            packages: BTreeMap::new(),
            contacts: BTreeMap::new(),
            addresses: BTreeMap::new(),
            referrers: vec![
                json!({"id": 0, "backendName": "Manuelle Eingabe", "name": "Manual entry", "origin": "plenty", "isEditable": false, "isFilterable": true}),
                json!({"id": 1, "backendName": "Mandant (Shop)", "name": "Client (store)", "origin": "plenty", "isEditable": false, "isFilterable": true}),
                json!({"id": 4, "backendName": "Amazon", "name": "Amazon", "origin": "plenty", "isEditable": false, "isFilterable": true}),
                json!({"id": 104.01, "backendName": "Amazon DE", "name": "Amazon DE", "origin": "plenty", "isEditable": false, "isFilterable": true}),
            ],
            payments: BTreeMap::new(),
            payment_links: BTreeSet::new(),
            payment_methods: vec![
                json!({"id": 0, "pluginKey": "plenty", "paymentKey": "CASH_ON_DELIVERY", "name": "Nachnahme"}),
                json!({"id": 2, "pluginKey": "plenty", "paymentKey": "PREPAYMENT", "name": "Vorkasse"}),
            ],
            next_order: 1000,
            next_order_item: 1,
            next_package: 1,
            next_contact: 100,
            next_address: 500,
            next_payment: 1,
        }
    }

    // ---- referrers -----------------------------------------------------------------------------

    /// A manually created referrer takes the next free id in 9..=100 (spec C.7).
    pub fn create_referrer(&mut self, body: Value) -> Answer {
        let name = body["name"]
            .as_str()
            .or_else(|| body["backendName"].as_str())
            .unwrap_or("")
            .trim()
            .to_string();
        if name.is_empty() {
            return Err(Refusal::invalid("name", "The name field is required."));
        }
        let used: BTreeSet<i64> = self.referrers.iter().filter_map(|r| r["id"].as_i64()).collect();
        let id = (9..=100)
            .find(|i| !used.contains(i))
            .ok_or_else(|| Refusal::invalid("id", "No free referrer id left."))?;
        let r = json!({
            "id": id,
            "name": name,
            "backendName": body["backendName"].as_str().unwrap_or(&name),
            "origin": body["origin"].as_str().unwrap_or(&name),
            "isEditable": body["isEditable"].as_bool().unwrap_or(true),
            "isFilterable": body["isFilterable"].as_bool().unwrap_or(true),
            "showInLeads": body["showInLeads"].as_bool().unwrap_or(false),
        });
        self.referrers.push(r.clone());
        Ok(r)
    }

    // ---- contacts ------------------------------------------------------------------------------

    pub fn create_contact(&mut self, mut body: Value, now: i64) -> Answer {
        if !body.is_object() {
            return Err(Refusal::invalid("body", "A JSON object is required."));
        }
        if body["typeId"].as_i64().unwrap_or(0) <= 0 {
            return Err(Refusal::invalid("typeId", "The type id field is required."));
        }
        let id = self.next_contact;
        self.next_contact += 1;
        body["id"] = json!(id);
        body["createdAt"] = json!(w3c(now));
        body["updatedAt"] = json!(w3c(now));
        self.contacts.insert(id, body.clone());
        Ok(body)
    }

    pub fn create_address(&mut self, contact_id: i64, mut body: Value, now: i64) -> Answer {
        if !self.contacts.contains_key(&contact_id) {
            return Err(Refusal::not_found("contact", contact_id));
        }
        if body["countryId"].as_i64().unwrap_or(0) <= 0 {
            return Err(Refusal::invalid("countryId", "The country id field is required."));
        }
        let id = self.next_address;
        self.next_address += 1;
        body["id"] = json!(id);
        body["contactId"] = json!(contact_id);
        body["createdAt"] = json!(w3c(now));
        self.addresses.insert(id, body.clone());
        Ok(body)
    }

    // ---- orders --------------------------------------------------------------------------------

    pub fn create_order(&mut self, body: Value, now: i64) -> Answer {
        let Value::Object(mut o) = body else {
            return Err(Refusal::invalid("body", "A JSON object is required."));
        };
        if o.get("typeId").and_then(number).unwrap_or(0.0) <= 0.0 {
            return Err(Refusal::invalid("typeId", "The type id field is required."));
        }
        if o.get("plentyId").and_then(number).unwrap_or(0.0) <= 0.0 {
            return Err(Refusal::invalid("plentyId", "The plenty id field is required."));
        }
        let items = o
            .get("orderItems")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            if item["typeId"].as_i64().unwrap_or(0) <= 0 {
                return Err(Refusal::invalid(
                    &format!("orderItems.{i}.typeId"),
                    "The type id field is required.",
                ));
            }
            if number(&item["quantity"]).unwrap_or(0.0) <= 0.0 {
                return Err(Refusal::invalid(
                    &format!("orderItems.{i}.quantity"),
                    "The quantity must be positive.",
                ));
            }
            let variation = item["itemVariationId"].as_i64().unwrap_or(0);
            if item["typeId"].as_i64() == Some(1) && !self.catalog.variations.contains_key(&variation) {
                return Err(Refusal::invalid(
                    &format!("orderItems.{i}.itemVariationId"),
                    "The selected item variation id is invalid.",
                ));
            }
        }
        for (field, kind) in [("addressRelations", "address")] {
            for (i, rel) in o
                .get(field)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let id = rel["addressId"].as_i64().unwrap_or(0);
                if !self.addresses.contains_key(&id) {
                    return Err(Refusal::invalid(
                        &format!("{field}.{i}.addressId"),
                        &format!("The selected {kind} id is invalid."),
                    ));
                }
            }
        }
        let id = self.next_order;
        self.next_order += 1;
        let items: Vec<Value> = items
            .into_iter()
            .map(|mut item| {
                item["id"] = json!(self.next_order_item);
                item["orderId"] = json!(id);
                self.next_order_item += 1;
                item
            })
            .collect();
        let status = o
            .get("statusId")
            .and_then(number)
            .unwrap_or(if o["typeId"].as_i64() == Some(3) { 9.0 } else { 3.0 });
        o.insert("id".into(), json!(id));
        o.insert("orderItems".into(), json!(items));
        o.insert("statusId".into(), json!(status));
        o.insert("statusName".into(), json!(status_name(status)));
        o.insert("createdAt".into(), json!(w3c(now)));
        o.insert("updatedAt".into(), json!(w3c(now)));
        o.insert("updatedAtUnix".into(), json!(now));
        for k in ["properties", "addressRelations", "relations"] {
            o.entry(k).or_insert(json!([]));
        }
        let order = Value::Object(o);
        self.orders.insert(id, order.clone());
        Ok(public(order))
    }

    pub fn order(&self, id: i64) -> Answer {
        self.orders
            .get(&id)
            .cloned()
            .map(public)
            .ok_or_else(|| Refusal::not_found("order", id))
    }

    fn touch(&mut self, id: i64, now: i64, f: impl FnOnce(&mut Map<String, Value>)) -> Answer {
        let order = self
            .orders
            .get_mut(&id)
            .ok_or_else(|| Refusal::not_found("order", id))?;
        let o = order.as_object_mut().expect("orders are objects");
        f(o);
        o.insert("updatedAt".into(), json!(w3c(now)));
        o.insert("updatedAtUnix".into(), json!(now));
        Ok(public(order.clone()))
    }

    pub fn update_order(&mut self, id: i64, body: Value, now: i64) -> Answer {
        let status = match body.get("statusId") {
            None => None,
            Some(v) => Some(
                number(v)
                    .filter(|s| *s > 0.0)
                    .ok_or_else(|| Refusal::invalid("statusId", "The status id must be a number."))?,
            ),
        };
        self.touch(id, now, |o| {
            if let Some(s) = status {
                o.insert("statusId".into(), json!(s));
                o.insert("statusName".into(), json!(status_name(s)));
            }
        })
    }

    pub fn cancel_order(&mut self, id: i64, now: i64) -> Answer {
        self.touch(id, now, |o| {
            o.insert("statusId".into(), json!(8.0));
            o.insert("statusName".into(), json!(status_name(8.0)));
        })
    }

    /// Adds a package with a tracking number and books outgoing items (status 7).
    pub fn ship(&mut self, id: i64, package_number: Option<String>, now: i64) -> Answer {
        if !self.orders.contains_key(&id) {
            return Err(Refusal::not_found("order", id));
        }
        let package_id = self.next_package;
        self.next_package += 1;
        let number = package_number.unwrap_or_else(|| format!("00340434{:010}", id * 1000 + package_id));
        let package = json!({
            "id": package_id, "orderId": id, "packageId": 2, "weight": 500, "packageNumber": number,
            "returnPackageNumber": "", "packageType": 26, "volume": 0, "isClosed": true, "createdAt": w3c(now),
        });
        self.packages.entry(id).or_default().push(package.clone());
        self.touch(id, now, |o| {
            o.insert("statusId".into(), json!(7.0));
            o.insert("statusName".into(), json!(status_name(7.0)));
        })?;
        Ok(package)
    }

    pub fn packages_of(&self, id: i64) -> Answer {
        if !self.orders.contains_key(&id) {
            return Err(Refusal::not_found("order", id));
        }
        Ok(json!(self.packages.get(&id).cloned().unwrap_or_default()))
    }

    /// Creates a return order (type 3, status 9 unless given) for some items of `id`.
    pub fn create_return(&mut self, id: i64, body: Value, now: i64) -> Answer {
        let parent = self
            .orders
            .get(&id)
            .cloned()
            .ok_or_else(|| Refusal::not_found("order", id))?;
        let quantities = body["quantities"].as_array().cloned().unwrap_or_default();
        if quantities.is_empty() {
            return Err(Refusal::invalid(
                "quantities",
                "The quantities field is required.",
            ));
        }
        let parent_items = parent["orderItems"].as_array().cloned().unwrap_or_default();
        let mut items = Vec::new();
        for (i, q) in quantities.iter().enumerate() {
            let item_id = q["orderItemId"].as_i64().unwrap_or(0);
            let quantity = number(&q["quantity"]).unwrap_or(0.0);
            let Some(item) = parent_items.iter().find(|it| it["id"].as_i64() == Some(item_id)) else {
                return Err(Refusal::invalid(
                    &format!("quantities.{i}.orderItemId"),
                    "The order item does not belong to the order.",
                ));
            };
            if quantity <= 0.0 || quantity > number(&item["quantity"]).unwrap_or(0.0) {
                return Err(Refusal::invalid(
                    &format!("quantities.{i}.quantity"),
                    "The quantity exceeds the ordered quantity.",
                ));
            }
            let mut copy = item.clone();
            copy.as_object_mut().expect("object").remove("id");
            copy["quantity"] = json!(quantity);
            copy["references"] = json!([{"referenceOrderItemId": item_id, "referenceType": "parent"}]);
            items.push(copy);
        }
        let mut properties = parent["properties"].as_array().cloned().unwrap_or_default();
        if let Some(n) = body["returnPackageNumber"].as_str() {
            properties.push(json!({"typeId": 0, "value": n, "name": "returnPackageNumber"}));
        }
        let mut child = json!({
            "typeId": 3,
            "plentyId": parent["plentyId"],
            "referrerId": parent["referrerId"],
            "parentOrderId": id,
            "orderItems": items,
            "properties": properties,
            "addressRelations": parent["addressRelations"],
            "relations": parent["relations"],
        });
        if let Some(s) = body.get("statusId").and_then(number) {
            child["statusId"] = json!(s);
        }
        let mut created = self.create_order(child, now)?;
        created["orderReferences"] = json!([{"originOrderId": id, "referenceType": "parent"}]);
        Ok(created)
    }

    /// Orders filtered like `GET /rest/orders`, newest last.
    pub fn find_orders(&self, q: &Query) -> Vec<Value> {
        let external = q.get("externalOrderId");
        let referrer = q.get("referrerId").and_then(|s| s.parse::<f64>().ok());
        let (from, to) = (
            q.get("updatedAtFrom").and_then(crate::clock::parse),
            q.get("updatedAtTo").and_then(crate::clock::parse),
        );
        let status_from = q.get("statusFrom").and_then(|s| s.parse::<f64>().ok());
        let status_to = q.get("statusTo").and_then(|s| s.parse::<f64>().ok());
        let plenty_id = q.get("plentyId").and_then(|s| s.parse::<i64>().ok());
        self.orders
            .values()
            .filter(|o| {
                let ext_ok = external.is_none_or(|e| {
                    o["properties"].as_array().is_some_and(|ps| {
                        ps.iter()
                            .any(|p| p["typeId"].as_i64() == Some(7) && p["value"].as_str() == Some(e))
                    })
                });
                let updated = o["updatedAtUnix"].as_i64().unwrap_or(0);
                let status = number(&o["statusId"]).unwrap_or(0.0);
                let order_referrer = number(&o["referrerId"]).or_else(|| {
                    o["orderItems"]
                        .as_array()
                        .and_then(|items| items.iter().find_map(|i| number(&i["referrerId"])))
                });
                ext_ok
                    && referrer.is_none_or(|r| order_referrer == Some(r))
                    && from.is_none_or(|f| updated >= f)
                    && to.is_none_or(|t| updated <= t)
                    && status_from.is_none_or(|s| status >= s)
                    && status_to.is_none_or(|s| status <= s)
                    && plenty_id.is_none_or(|p| o["plentyId"].as_i64() == Some(p))
            })
            .cloned()
            .map(public)
            .collect()
    }

    // ---- payments ------------------------------------------------------------------------------

    pub fn create_payment(&mut self, mut body: Value, now: i64) -> Answer {
        for field in [
            "amount",
            "currency",
            "exchangeRatio",
            "mopId",
            "status",
            "transactionType",
            "type",
        ] {
            if body.get(field).is_none_or(Value::is_null) {
                return Err(Refusal::invalid(
                    field,
                    &format!("The {field} field is required."),
                ));
            }
        }
        let id = self.next_payment;
        self.next_payment += 1;
        body["id"] = json!(id);
        body["receivedAt"] = json!(w3c(now));
        self.payments.insert(id, body.clone());
        Ok(body)
    }

    /// A new payment method; (`pluginKey`, `paymentKey`) must be unique.
    pub fn create_payment_method(&mut self, body: Value) -> Answer {
        let key = |k: &str| body[k].as_str().unwrap_or("").trim().to_string();
        let (plugin, payment, name) = (key("pluginKey"), key("paymentKey"), key("name"));
        for (field, value) in [("pluginKey", &plugin), ("paymentKey", &payment), ("name", &name)] {
            if value.is_empty() {
                return Err(Refusal::invalid(
                    field,
                    &format!("The {field} field is required."),
                ));
            }
        }
        if self
            .payment_methods
            .iter()
            .any(|m| m["pluginKey"] == plugin.as_str() && m["paymentKey"] == payment.as_str())
        {
            return Err(Refusal::invalid(
                "paymentKey",
                "The payment method already exists.",
            ));
        }
        let id = 6000 + self.payment_methods.len() as i64;
        let method = json!({"id": id, "pluginKey": plugin, "paymentKey": payment, "name": name});
        self.payment_methods.push(method.clone());
        Ok(method)
    }

    pub fn link_payment(&mut self, payment_id: i64, order_id: i64) -> Answer {
        if !self.payments.contains_key(&payment_id) {
            return Err(Refusal::not_found("payment", payment_id));
        }
        if !self.orders.contains_key(&order_id) {
            return Err(Refusal::not_found("order", order_id));
        }
        self.payment_links.insert((payment_id, order_id));
        Ok(json!({"paymentId": payment_id, "orderId": order_id, "type": "order", "value": order_id}))
    }
}

/// Drops internal bookkeeping fields.
fn public(mut order: Value) -> Value {
    if let Some(o) = order.as_object_mut() {
        o.remove("updatedAtUnix");
    }
    order
}

/// Decoded query string; `with[]=a&with[]=b` and `with=a,b` both become a list.
#[derive(Debug, Default, Clone)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn list(&self, name: &str) -> BTreeSet<String> {
        let bracket = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == name || *k == bracket)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// One page of `entries` in plentymarkets' pagination shape.
pub fn page_of(
    entries: Vec<Value>,
    q: &Query,
    default_per_page: usize,
    max_per_page: usize,
) -> Result<Value, Refusal> {
    page_rendered(entries, q, default_per_page, max_per_page, |v| v)
}

/// [`page_of`] that renders only the entries of the requested page (a 100,000-variation catalogue
/// would otherwise be rendered whole for every page).
pub fn page_rendered<T>(
    entries: Vec<T>,
    q: &Query,
    default_per_page: usize,
    max_per_page: usize,
    render: impl FnMut(T) -> Value,
) -> Result<Value, Refusal> {
    let page: usize = match q.get("page") {
        None => 1,
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| Refusal::invalid("page", "The page must be an integer ≥ 1."))?,
    };
    let per: usize = match q.get("itemsPerPage") {
        None => default_per_page,
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| (1..=max_per_page).contains(p))
            .ok_or_else(|| {
                Refusal::invalid(
                    "itemsPerPage",
                    &format!("The items per page must be between 1 and {max_per_page}."),
                )
            })?,
    };
    let total = entries.len();
    let last_page = total.div_ceil(per).max(1);
    let start = (page - 1) * per;
    let slice: Vec<Value> = entries.into_iter().skip(start).take(per).map(render).collect();
    Ok(json!({
        "page": page,
        "totalsCount": total,
        "isLastPage": page >= last_page,
        "lastPageNumber": last_page,
        "firstOnPage": if slice.is_empty() { 0 } else { start + 1 },
        "lastOnPage": start + slice.len(),
        "itemsPerPage": per,
        "entries": slice,
    }))
}
