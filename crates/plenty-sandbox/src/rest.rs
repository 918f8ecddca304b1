//! The `/rest/...` handlers (spec C.3). Each takes the store's lock briefly and answers JSON.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::app::{PlentySandbox, json_response};
use crate::catalog::{Catalog, Variation};
use crate::clock::{now_secs, window};
use crate::store::{Answer, Query, Refusal, page_of, page_rendered};

type S = State<Arc<PlentySandbox>>;

pub fn routes() -> Router<Arc<PlentySandbox>> {
    Router::new()
        .route("/rest/pim/variations", get(pim_variations))
        .route("/rest/items/variations", get(item_variations))
        .route("/rest/items/{id}/images", get(item_images))
        .route(
            "/rest/items/{id}/variations/{variationId}/descriptions",
            get(descriptions),
        )
        .route(
            "/rest/items/{id}/variations/{variationId}/stock",
            get(variation_stock),
        )
        .route(
            "/rest/items/{id}/variations/{variationId}/variation_skus",
            get(variation_skus).post(create_variation_sku),
        )
        .route("/rest/stockmanagement/stock", get(stock))
        .route(
            "/rest/stockmanagement/warehouses/{warehouseId}/stock",
            get(warehouse_stock),
        )
        .route("/rest/orders/referrers", get(referrers).post(create_referrer))
        .route("/rest/accounts/contacts", post(create_contact))
        .route(
            "/rest/accounts/contacts/{contactId}/addresses",
            post(create_address),
        )
        .route("/rest/orders", get(orders).post(create_order))
        .route("/rest/orders/{orderId}", get(order).put(update_order))
        .route("/rest/orders/{orderId}/cancel", put(cancel_order))
        .route("/rest/orders/{orderId}/shipping/packages", get(packages))
        .route("/rest/orders/{orderId}/returns", post(create_return))
        .route("/rest/payments", post(create_payment))
        .route(
            "/rest/payments/methods",
            get(payment_methods).post(create_payment_method),
        )
        .route("/rest/payment/{paymentId}/order/{orderId}", post(link_payment))
}

pub fn answer(r: Answer) -> Response {
    match r {
        Ok(v) => json_response(200, v),
        Err(Refusal { status, body }) => json_response(status, body),
    }
}

fn id(text: &str, what: &str) -> Result<i64, Refusal> {
    text.parse().map_err(|_| Refusal::not_found(what, text))
}

fn body_json(raw: &Bytes) -> Result<Value, Refusal> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(raw).map_err(|_| Refusal::invalid("body", "The body is not valid JSON."))
}

fn bool_filter(q: &Query, name: &str) -> Option<bool> {
    q.get(name).map(|v| matches!(v, "1" | "true"))
}

fn in_window(ts: i64, filter: Option<&str>) -> Result<bool, Refusal> {
    let Some(f) = filter else { return Ok(true) };
    let (from, to) = window(f)
        .ok_or_else(|| Refusal::invalid("updatedAt", "Use `from,to` as W3C dates or unix seconds."))?;
    Ok(from.is_none_or(|f| ts >= f) && to.is_none_or(|t| ts <= t))
}

async fn pim_variations(State(app): S, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let base = app.base_url();
    let store = app.store.lock().expect("store");
    let run = || -> Answer {
        let ids: Vec<i64> = q.list("ids").iter().filter_map(|s| s.parse().ok()).collect();
        if ids.len() > 500 {
            return Err(Refusal::invalid("ids", "At most 500 ids."));
        }
        let item_id = q.get("itemId").and_then(|s| s.parse::<i64>().ok());
        let active = bool_filter(&q, "isActive");
        let mut out = Vec::new();
        for v in store.catalog.variations.values() {
            if (!ids.is_empty() && !ids.contains(&v.id))
                || item_id.is_some_and(|i| i != v.item_id)
                || active.is_some_and(|a| a != v.is_active)
                || q.get("number").is_some_and(|n| n != v.number)
                || q.get("barcodeCode").is_some_and(|b| b != v.barcode)
                || !in_window(v.updated_at, q.get("updatedAt"))?
                || !in_window(v.stock_updated_at, q.get("stockUpdatedAt"))?
            {
                continue;
            }
            out.push(v);
        }
        let with = q.list("with");
        page_rendered(out, &q, 50, 250, |v| store.catalog.pim_json(&base, v, &with))
    };
    answer(run())
}

fn sku_matches(v: &Variation, filter: &str) -> bool {
    let (sku, referrer) = match filter.rsplit_once(':') {
        Some((s, r)) => (s, r.parse::<f64>().ok()),
        None => (filter, None),
    };
    v.skus
        .iter()
        .any(|s| s["sku"].as_str() == Some(sku) && referrer.is_none_or(|r| s["marketId"].as_f64() == Some(r)))
}

async fn item_variations(State(app): S, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let base = app.base_url();
    let store = app.store.lock().expect("store");
    let run = || -> Answer {
        let item_id = q.get("itemId").and_then(|s| s.parse::<i64>().ok());
        let id = q.get("id").and_then(|s| s.parse::<i64>().ok());
        let active = bool_filter(&q, "isActive");
        let mut out = Vec::new();
        for v in store.catalog.variations.values() {
            if item_id.is_some_and(|i| i != v.item_id)
                || id.is_some_and(|i| i != v.id)
                || active.is_some_and(|a| a != v.is_active)
                || q.get("numberExact").is_some_and(|n| n != v.number)
                || q.get("barcode").is_some_and(|b| b != v.barcode)
                || q.get("sku").is_some_and(|s| !sku_matches(v, s))
                || !in_window(v.updated_at, q.get("updatedBetween"))?
                || !in_window(
                    v.updated_at.max(v.stock_updated_at),
                    q.get("relatedUpdatedBetween"),
                )?
            {
                continue;
            }
            out.push(v);
        }
        let with = q.list("with");
        page_rendered(out, &q, 50, 250, |v| store.catalog.classic_json(&base, v, &with))
    };
    answer(run())
}

fn variation_of<'a>(catalog: &'a Catalog, item: &str, variation: &str) -> Result<&'a Variation, Refusal> {
    let (item_id, variation_id) = (id(item, "item")?, id(variation, "variation")?);
    catalog
        .variations
        .get(&variation_id)
        .filter(|v| v.item_id == item_id)
        .ok_or_else(|| Refusal::not_found("variation", variation_id))
}

async fn item_images(State(app): S, Path(item): Path<String>) -> Response {
    let base = app.base_url();
    let store = app.store.lock().expect("store");
    answer((|| {
        let item_id = id(&item, "item")?;
        let it = store
            .catalog
            .items
            .get(&item_id)
            .ok_or_else(|| Refusal::not_found("item", item_id))?;
        Ok(json!(
            it.image_ids
                .iter()
                .map(|i| store.catalog.image_json(&base, item_id, *i))
                .collect::<Vec<_>>()
        ))
    })())
}

async fn descriptions(State(app): S, Path((item, variation)): Path<(String, String)>) -> Response {
    let store = app.store.lock().expect("store");
    answer(
        variation_of(&store.catalog, &item, &variation)
            .map(|v| json!(store.catalog.texts_json(v.item_id, Some(v.id)))),
    )
}

async fn variation_stock(State(app): S, Path((item, variation)): Path<(String, String)>) -> Response {
    let store = app.store.lock().expect("store");
    answer(variation_of(&store.catalog, &item, &variation).map(|v| json!(Catalog::stock_json(v))))
}

async fn variation_skus(State(app): S, Path((item, variation)): Path<(String, String)>) -> Response {
    let store = app.store.lock().expect("store");
    answer(variation_of(&store.catalog, &item, &variation).map(|v| json!(v.skus)))
}

async fn create_variation_sku(
    State(app): S,
    Path((item, variation)): Path<(String, String)>,
    raw: Bytes,
) -> Response {
    let mut store = app.store.lock().expect("store");
    answer((|| {
        let variation_id = variation_of(&store.catalog, &item, &variation)?.id;
        let mut body = body_json(&raw)?;
        let sku = body["sku"].as_str().unwrap_or("").trim().to_string();
        if sku.is_empty() {
            return Err(Refusal::invalid("sku", "The sku field is required."));
        }
        let market = body["marketId"]
            .as_f64()
            .ok_or_else(|| Refusal::invalid("marketId", "The market id field is required."))?;
        let account = body["accountId"].as_i64().unwrap_or(0);
        let taken = store
            .catalog
            .variations
            .values()
            .flat_map(|v| v.skus.iter())
            .any(|s| {
                s["sku"].as_str() == Some(&sku)
                    && s["marketId"].as_f64() == Some(market)
                    && s["accountId"].as_i64() == Some(account)
            });
        if taken {
            return Err(Refusal::invalid(
                "sku",
                "The sku has already been taken for this market and account.",
            ));
        }
        let sku_id = store.catalog.next_sku;
        store.catalog.next_sku += 1;
        body["id"] = json!(sku_id);
        body["variationId"] = json!(variation_id);
        body["accountId"] = json!(account);
        body["createdAt"] = json!(crate::clock::w3c(now_secs()));
        store
            .catalog
            .variations
            .get_mut(&variation_id)
            .expect("exists")
            .skus
            .push(body.clone());
        Ok(body)
    })())
}

fn stock_rows(store: &crate::store::Store, q: &Query, warehouse: Option<i64>) -> Answer {
    let variation = q.get("variationId").and_then(|s| s.parse::<i64>().ok());
    let from = q.get("updatedAtFrom").and_then(crate::clock::parse);
    let to = q.get("updatedAtTo").and_then(crate::clock::parse);
    let rows: Vec<Value> = store
        .catalog
        .variations
        .values()
        .filter(|v| variation.is_none_or(|id| id == v.id))
        .filter(|v| {
            from.is_none_or(|f| v.stock_updated_at >= f) && to.is_none_or(|t| v.stock_updated_at <= t)
        })
        .flat_map(Catalog::stock_management_json)
        .filter(|row| warehouse.is_none_or(|w| row["warehouseId"].as_i64() == Some(w)))
        .collect();
    page_of(rows, q, 50, 250)
}

async fn stock(State(app): S, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let store = app.store.lock().expect("store");
    answer(stock_rows(&store, &q, None))
}

async fn warehouse_stock(State(app): S, Path(warehouse): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let store = app.store.lock().expect("store");
    answer(id(&warehouse, "warehouse").and_then(|w| {
        if crate::catalog::WAREHOUSES.iter().any(|x| x.0 == w) {
            stock_rows(&store, &q, Some(w))
        } else {
            Err(Refusal::not_found("warehouse", w))
        }
    }))
}

async fn referrers(State(app): S) -> Response {
    answer(Ok(json!(app.store.lock().expect("store").referrers)))
}

async fn create_referrer(State(app): S, raw: Bytes) -> Response {
    answer(body_json(&raw).and_then(|b| app.store.lock().expect("store").create_referrer(b)))
}

async fn create_contact(State(app): S, raw: Bytes) -> Response {
    answer(body_json(&raw).and_then(|b| app.store.lock().expect("store").create_contact(b, now_secs())))
}

async fn create_address(State(app): S, Path(contact): Path<String>, raw: Bytes) -> Response {
    answer((|| {
        let contact_id = id(&contact, "contact")?;
        app.store
            .lock()
            .expect("store")
            .create_address(contact_id, body_json(&raw)?, now_secs())
    })())
}

async fn orders(State(app): S, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let store = app.store.lock().expect("store");
    answer(page_of(store.find_orders(&q), &q, 50, 250))
}

async fn create_order(State(app): S, raw: Bytes) -> Response {
    answer(body_json(&raw).and_then(|b| app.store.lock().expect("store").create_order(b, now_secs())))
}

async fn order(State(app): S, Path(order): Path<String>) -> Response {
    answer(id(&order, "order").and_then(|o| app.store.lock().expect("store").order(o)))
}

async fn update_order(State(app): S, Path(order): Path<String>, raw: Bytes) -> Response {
    answer((|| {
        let order_id = id(&order, "order")?;
        app.store
            .lock()
            .expect("store")
            .update_order(order_id, body_json(&raw)?, now_secs())
    })())
}

async fn cancel_order(State(app): S, Path(order): Path<String>) -> Response {
    answer(id(&order, "order").and_then(|o| app.store.lock().expect("store").cancel_order(o, now_secs())))
}

async fn packages(State(app): S, Path(order): Path<String>) -> Response {
    answer(id(&order, "order").and_then(|o| app.store.lock().expect("store").packages_of(o)))
}

async fn create_return(State(app): S, Path(order): Path<String>, raw: Bytes) -> Response {
    answer((|| {
        let order_id = id(&order, "order")?;
        app.store
            .lock()
            .expect("store")
            .create_return(order_id, body_json(&raw)?, now_secs())
    })())
}

async fn create_payment(State(app): S, raw: Bytes) -> Response {
    answer(body_json(&raw).and_then(|b| app.store.lock().expect("store").create_payment(b, now_secs())))
}

async fn payment_methods(State(app): S) -> Response {
    answer(Ok(json!(app.store.lock().expect("store").payment_methods)))
}

async fn create_payment_method(State(app): S, raw: Bytes) -> Response {
    answer(body_json(&raw).and_then(|b| app.store.lock().expect("store").create_payment_method(b)))
}

async fn link_payment(State(app): S, Path((payment, order)): Path<(String, String)>) -> Response {
    answer((|| {
        let (p, o) = (id(&payment, "payment")?, id(&order, "order")?);
        app.store.lock().expect("store").link_payment(p, o)
    })())
}
