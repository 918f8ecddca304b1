//! The control API under `/_sandbox/` (plain JSON, no signing): seeding, driving orders as a buyer or
//! the platform, tokens, rate limits, counters, faults, webhooks, reset. Its shape is a contract used
//! by other test suites: extend it, don't change it.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use crate::app::Sandbox;
use crate::envelope::ApiError;
use crate::faults::FaultRule;
use crate::state::State;
use crate::state::apps::{App, Seller, Shop};
use crate::state::orders::{Address, OrderSeed};

type S = AxState<Arc<Sandbox>>;

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/health", get(|| async { axum::Json(json!({ "ok": true })) }))
        .route("/info", get(info))
        .route("/reset", post(reset))
        .route("/seed", post(seed))
        .route("/apps", post(add_app))
        .route("/tokens", post(issue_token))
        .route("/tokens/expire", post(expire_token))
        .route("/tokens/revoke", post(revoke_token))
        .route("/sellers/{open_id}/deauthorize", post(deauthorize))
        .route("/shops/{shop_id}/orders", post(random_orders))
        .route("/orders/{id}", get(order))
        .route("/orders/{id}/advance", post(advance))
        .route("/orders/{id}/ship", post(ship))
        .route("/orders/{id}/buyer_cancel", post(buyer_cancel))
        .route("/orders/{id}/buyer_return", post(buyer_return))
        .route("/orders/{id}/address", post(address))
        .route("/returns/{id}/buyer_ship", post(buyer_ship))
        .route("/products/{id}", get(product))
        .route("/rate_limit", get(get_rate_limit).put(put_rate_limit))
        .route("/counters", get(counters).delete(reset_counters))
        .route("/contract", get(contract_report).delete(clear_contract))
        .route("/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/faults/{id}", delete(remove_fault))
        .route("/webhooks", get(get_webhooks).put(put_webhooks))
        .route("/webhooks/deliveries", get(deliveries).delete(clear_deliveries))
        .route("/settings", get(get_settings).put(put_settings))
        .route("/images/{*uri}", get(image_bytes))
        .route("/documents/{*path}", get(document_bytes))
        .route("/files/{id}", get(document_bytes))
}

/// The URL handed out by image upload resolves to a placeholder PNG of the uploaded size's header
/// (pixels are not stored).
async fn image_bytes(AxState(app): S, Path(uri): Path<String>) -> Response {
    let key = uri.rsplit_once('.').map(|(k, _)| k).unwrap_or(&uri).to_string();
    let Some((w, h)) = app
        .state
        .lock()
        .expect("state")
        .images
        .get(&key)
        .map(|i| (i.width, i.height))
    else {
        return (StatusCode::NOT_FOUND, "no such image").into_response();
    };
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&w.to_be_bytes());
    png.extend_from_slice(&h.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0]);
    ([(axum::http::header::CONTENT_TYPE, "image/png")], png).into_response()
}

/// Shipping labels and uploaded files resolve to a minimal placeholder PDF.
async fn document_bytes() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/pdf")],
        &b"%PDF-1.4\n% tts-sandbox placeholder\n%%EOF\n"[..],
    )
        .into_response()
}

fn reply(r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => {
            let status = if e.code == crate::envelope::codes::NOT_FOUND {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            };
            (status, axum::Json(json!({ "error": e.message, "code": e.code }))).into_response()
        }
    }
}

fn body(raw: &axum::body::Bytes) -> Result<Value, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(raw).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

fn now() -> i64 {
    crate::clock::now_secs()
}

async fn info(AxState(app): S) -> Response {
    let mut v = app.info();
    v["rate_limit"] = rate_limit_json(&app);
    reply(Ok(v))
}

/// Back to the start: state, seed, settings, rate limit, webhook config, faults, counters, log.
async fn reset(AxState(app): S) -> Response {
    let c = &app.config;
    app.faults.remove(None);
    app.stats.reset();
    app.contract.clear();
    app.ratelimit.set(c.rate_limit, c.rate_burst);
    app.retry_after.store(c.retry_after, Relaxed);
    app.approve_page.store(c.approve_page, Relaxed);
    app.audit_delay_ms.store(c.audit_delay_ms, Relaxed);
    {
        let mut w = app.webhooks.config.write().expect("webhook config");
        w.default_url = c.webhook_url.clone();
        w.duplicates = c.webhook_duplicates;
        w.shuffle_ms = c.webhook_shuffle_ms;
        w.time_scale = c.time_scale;
        w.timeout_ms = crate::webhooks::DEFAULT_TIMEOUT_MS;
    }
    let r = app.with_state(|s| {
        *s = State::new(c);
        apply_initial(s, c)
    });
    app.webhooks.clear_log();
    reply(r.map(|_| json!({ "reset": true })))
}

/// The `--config` seed and the `--orders` random orders, applied at start and on reset.
pub fn apply_initial(s: &mut State, c: &crate::config::Config) -> Result<(), ApiError> {
    if let Some(seed) = c.seed.clone() {
        apply_seed(s, seed)?;
    }
    if c.initial_orders > 0 {
        let mut shops: Vec<String> = s.shops.keys().cloned().collect();
        shops.sort();
        let list: Vec<_> = shops
            .iter()
            .map(|id| json!({ "shop_id": id, "count": c.initial_orders }))
            .collect();
        apply_seed(s, json!({ "random_orders": list }))?;
    }
    Ok(())
}

/// Seeds apps, sellers/shops, products and orders from one JSON document (also used by `--config`).
pub fn apply_seed(s: &mut State, seed: Value) -> Result<Value, ApiError> {
    let t = now();
    let mut out = json!({ "apps": [], "shops": [], "products": [], "orders": [] });
    for a in seed["apps"].as_array().cloned().unwrap_or_default() {
        let app: App = parse(a)?;
        out["apps"]
            .as_array_mut()
            .expect("array")
            .push(json!(app.app_key));
        s.add_app(app);
    }
    for sv in seed["sellers"].as_array().cloned().unwrap_or_default() {
        let shops: Vec<Shop> = parse(sv["shops"].clone())?;
        let seller = Seller {
            open_id: sv["open_id"]
                .as_str()
                .ok_or_else(|| ApiError::bad_request("sellers[].open_id is required"))?
                .into(),
            name: sv["name"].as_str().unwrap_or("Seeded Seller").into(),
            base_region: sv["base_region"].as_str().unwrap_or("US").into(),
            shops: Vec::new(),
        };
        for sh in &shops {
            out["shops"].as_array_mut().expect("array").push(json!(sh.id));
        }
        let apps: Vec<String> = match sv["authorized_apps"].as_array() {
            Some(a) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            None => s.apps.keys().cloned().collect(),
        };
        for a in apps {
            s.authorizations.insert((a, seller.open_id.clone()));
        }
        s.add_seller(seller, shops);
    }
    for mut p in seed["products"].as_array().cloned().unwrap_or_default() {
        let shop_id = p["shop_id"]
            .as_str()
            .ok_or_else(|| ApiError::bad_request("products[].shop_id is required"))?
            .to_string();
        let region = s
            .shops
            .get(&shop_id)
            .ok_or_else(|| ApiError::not_found("shop", &shop_id))?
            .region
            .clone();
        let status = p["status"].as_str().unwrap_or("ACTIVATE").to_string();
        let obj = p
            .as_object_mut()
            .ok_or_else(|| ApiError::bad_request("products[] must be objects"))?;
        obj.remove("shop_id");
        obj.remove("status");
        obj.insert("__region".into(), json!(region));
        s.assign_sku_ids(&mut p, None);
        let id = match p["id"].as_str() {
            Some(id) => id.to_string(),
            None => s.next_id(1_729_382_000_000_000_000),
        };
        if let Some(o) = p.as_object_mut() {
            o.remove("id");
        }
        let skus: Vec<Value> = p["skus"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|x| json!({ "id": x["id"], "seller_sku": x["seller_sku"] }))
            .collect();
        s.products.insert(
            id.clone(),
            crate::state::products::Product {
                id: id.clone(),
                shop_id,
                status,
                body: p,
                create_time: t,
                update_time: t,
                audit_version: 0,
                audit_failed_reasons: Vec::new(),
            },
        );
        out["products"]
            .as_array_mut()
            .expect("array")
            .push(json!({ "product_id": id, "skus": skus }));
    }
    for o in seed["orders"].as_array().cloned().unwrap_or_default() {
        let seed: OrderSeed = parse(o)?;
        let id = s.create_order(seed, t)?;
        out["orders"].as_array_mut().expect("array").push(json!(id));
    }
    for r in seed["random_orders"].as_array().cloned().unwrap_or_default() {
        let shop_id = r["shop_id"].as_str().unwrap_or("").to_string();
        for _ in 0..r["count"].as_u64().unwrap_or(1) {
            let seed = OrderSeed {
                shop_id: shop_id.clone(),
                id: None,
                status: r["status"].as_str().map(String::from),
                currency: None,
                shipping_fee: None,
                create_time: None,
                address: None,
                line_items: Vec::new(),
            };
            let id = s.create_order(seed, t)?;
            out["orders"].as_array_mut().expect("array").push(json!(id));
        }
    }
    Ok(out)
}

async fn seed(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| app.with_state(|s| apply_seed(s, v))))
}

async fn add_app(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| app.with_state(|s| apply_seed(s, json!({ "apps": [v] })))))
}

/// Issues a token without the OAuth dance. Body: `{app_key?, open_id?}` (defaults: seeded app and seller).
async fn issue_token(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| {
        let app_key = v["app_key"]
            .as_str()
            .unwrap_or(&app.config.app.app_key)
            .to_string();
        let open_id = v["open_id"]
            .as_str()
            .unwrap_or(crate::state::apps::DEFAULT_OPEN_ID)
            .to_string();
        app.with_state(|s| {
            if !s.apps.contains_key(&app_key) {
                return Err(ApiError::not_found("app", &app_key));
            }
            if !s.sellers.contains_key(&open_id) {
                return Err(ApiError::not_found("seller", &open_id));
            }
            let t = s.issue_token(&app_key, &open_id, now());
            Ok(s.token_json(&t))
        })
    }))
}

fn with_token(
    app: &Arc<Sandbox>,
    raw: &axum::body::Bytes,
    f: impl FnOnce(&mut crate::state::apps::Token),
) -> Result<Value, ApiError> {
    let v = body(raw)?;
    let tok = v["access_token"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("access_token is required"))?
        .to_string();
    app.with_state(|s| {
        let t = s
            .tokens
            .get_mut(&tok)
            .ok_or_else(|| ApiError::not_found("access token", "(given)"))?;
        f(t);
        Ok(json!({ "access_token_expire_in": t.access_expire, "revoked": t.revoked }))
    })
}

async fn expire_token(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(with_token(&app, &raw, |t| t.access_expire = now()))
}

async fn revoke_token(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(with_token(&app, &raw, |t| t.revoked = true))
}

/// Seller removes the app: every token revoked (105001), webhook type 6 per shop. Body `{app_key?}`.
async fn deauthorize(AxState(app): S, Path(open_id): Path<String>, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| {
        let app_key = v["app_key"]
            .as_str()
            .unwrap_or(&app.config.app.app_key)
            .to_string();
        app.with_state(|s| {
            if !s.sellers.contains_key(&open_id) {
                return Err(ApiError::not_found("seller", &open_id));
            }
            let n = s.deauthorize(&app_key, &open_id);
            Ok(json!({ "revoked_tokens": n }))
        })
    }))
}

/// `{count, status?}` → that many random orders in the shop (optionally driven to `status`).
async fn random_orders(AxState(app): S, Path(shop_id): Path<String>, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| {
        let count = v["count"].as_u64().unwrap_or(1);
        app.with_state(|s| {
            apply_seed(
                s,
                json!({ "random_orders": [{ "shop_id": shop_id, "count": count, "status": v["status"] }] }),
            )
        })
        .map(|o| json!({ "order_ids": o["orders"] }))
    }))
}

async fn order(AxState(app): S, Path(id): Path<String>) -> Response {
    let st = app.state.lock().expect("state");
    reply(
        st.orders
            .get(&id)
            .map(|o| o.to_json(&st.packages, true))
            .ok_or_else(|| ApiError::not_found("order", &id)),
    )
}

async fn product(AxState(app): S, Path(id): Path<String>) -> Response {
    let st = app.state.lock().expect("state");
    reply(
        st.products
            .get(&id)
            .map(|p| p.detail_json())
            .ok_or_else(|| ApiError::not_found("product", &id)),
    )
}

/// One lifecycle step, or `{status}` to drive the order to that status.
async fn advance(AxState(app): S, Path(id): Path<String>, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| {
        app.with_state(|s| {
            match v["status"].as_str() {
                Some(target) => s.force_status(&id, target, now())?,
                None => {
                    s.advance_order(&id, now())?;
                }
            }
            Ok(json!({ "order_id": id, "status": s.orders[&id].status }))
        })
    }))
}

/// The platform ships every pending package (carrier pickup): the order goes to AWAITING_COLLECTION.
async fn ship(AxState(app): S, Path(id): Path<String>) -> Response {
    reply(app.with_state(|s| {
        let st = s
            .orders
            .get(&id)
            .ok_or_else(|| ApiError::not_found("order", &id))?
            .status
            .clone();
        crate::state::orders::check_shippable(&s.orders[&id])?;
        let _ = st;
        s.advance_order(&id, now())?;
        Ok(json!({ "order_id": id, "status": s.orders[&id].status }))
    }))
}

async fn buyer_cancel(AxState(app): S, Path(id): Path<String>, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| {
        let reason = v["reason"]
            .as_str()
            .unwrap_or("Buyer changed their mind")
            .to_string();
        app.with_state(|s| s.buyer_request_cancellation(&id, &reason, now()))
    }))
}

async fn buyer_return(AxState(app): S, Path(id): Path<String>, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| {
        let kind = v["return_type"].as_str().unwrap_or("REFUND").to_string();
        let reason = v["reason"]
            .as_str()
            .unwrap_or("Item not as described")
            .to_string();
        app.with_state(|s| s.buyer_request_return(&id, &kind, &reason, now()))
    }))
}

async fn buyer_ship(AxState(app): S, Path(id): Path<String>) -> Response {
    reply(app.with_state(|s| s.buyer_ship_return(&id, now())))
}

async fn address(AxState(app): S, Path(id): Path<String>, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| {
        let a: Address = parse(v.get("address").cloned().unwrap_or(v))?;
        app.with_state(|s| s.update_address(&id, a, now()).map(|_| json!({ "order_id": id })))
    }))
}

fn rate_limit_json(app: &Sandbox) -> Value {
    match app.ratelimit.current() {
        Some((rate, burst)) => {
            json!({ "per_second": rate, "burst": burst, "retry_after": app.retry_after.load(Relaxed) })
        }
        None => json!({ "per_second": null, "burst": null, "retry_after": app.retry_after.load(Relaxed) }),
    }
}

async fn get_rate_limit(AxState(app): S) -> Response {
    reply(Ok(rate_limit_json(&app)))
}

/// `{per_second: N | null (unlimited), burst?: N, retry_after?: bool}`.
async fn put_rate_limit(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).map(|v| {
        let rate = v["per_second"].as_u64().map(|n| n as u32);
        let burst = v["burst"].as_u64().map(|n| n as u32);
        app.ratelimit.set(rate, burst);
        if let Some(b) = v["retry_after"].as_bool() {
            app.retry_after.store(b, Relaxed);
        }
        rate_limit_json(&app)
    }))
}

async fn counters(AxState(app): S) -> Response {
    reply(Ok(app.stats.to_json()))
}

/// What the contract check found: `{enabled, operations, requests_checked, responses_checked,
/// fields_checked, divergences: [{operation, path, problem, count}]}`.
async fn contract_report(AxState(app): S) -> Response {
    reply(Ok(app.contract.to_json()))
}

async fn clear_contract(AxState(app): S) -> Response {
    app.contract.clear();
    reply(Ok(json!({ "cleared": true })))
}

async fn reset_counters(AxState(app): S) -> Response {
    app.stats.reset();
    reply(Ok(json!({ "reset": true })))
}

async fn list_faults(AxState(app): S) -> Response {
    reply(Ok(json!({ "faults": app.faults.list() })))
}

async fn add_fault(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(
        body(&raw)
            .and_then(parse::<FaultRule>)
            .and_then(|r| app.faults.add(r).map(|r| json!(r)).map_err(ApiError::bad_request)),
    )
}

async fn clear_faults(AxState(app): S) -> Response {
    reply(Ok(json!({ "removed": app.faults.remove(None) })))
}

async fn remove_fault(AxState(app): S, Path(id): Path<u64>) -> Response {
    reply(Ok(json!({ "removed": app.faults.remove(Some(id)) })))
}

async fn get_webhooks(AxState(app): S) -> Response {
    reply(Ok(json!(
        app.webhooks.config.read().expect("webhook config").clone()
    )))
}

/// `{default_url?: string|null, duplicates?, shuffle_ms?, time_scale?, timeout_ms?}`.
async fn put_webhooks(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).and_then(|v| {
        let mut c = app.webhooks.config.write().expect("webhook config");
        if let Some(u) = v.get("default_url") {
            c.default_url = u.as_str().map(String::from);
        }
        if let Some(b) = v["duplicates"].as_bool() {
            c.duplicates = b;
        }
        if let Some(n) = v["shuffle_ms"].as_u64() {
            c.shuffle_ms = n;
        }
        if let Some(f) = v["time_scale"].as_f64() {
            if f <= 0.0 {
                return Err(ApiError::bad_request("time_scale must be > 0"));
            }
            c.time_scale = f;
        }
        if let Some(n) = v["timeout_ms"].as_u64() {
            c.timeout_ms = n;
        }
        Ok(json!(c.clone()))
    }))
}

async fn deliveries(AxState(app): S) -> Response {
    reply(Ok(json!({ "deliveries": app.webhooks.log() })))
}

async fn clear_deliveries(AxState(app): S) -> Response {
    app.webhooks.clear_log();
    reply(Ok(json!({ "cleared": true })))
}

fn settings_json(app: &Sandbox) -> Value {
    let st = app.state.lock().expect("state");
    json!({
        "audit_delay_ms": app.audit_delay_ms.load(Relaxed),
        "audit_reject_keyword": st.settings.audit_reject_keyword,
        "approve_page": app.approve_page.load(Relaxed),
        "access_token_ttl_secs": st.settings.access_token_ttl_secs,
        "refresh_token_ttl_secs": st.settings.refresh_token_ttl_secs,
        "auth_code_ttl_ms": st.settings.auth_code_ttl_ms,
        "on_hold_ms": st.settings.on_hold_ms,
    })
}

async fn get_settings(AxState(app): S) -> Response {
    reply(Ok(settings_json(&app)))
}

async fn put_settings(AxState(app): S, raw: axum::body::Bytes) -> Response {
    reply(body(&raw).map(|v| {
        if let Some(n) = v["audit_delay_ms"].as_u64() {
            app.audit_delay_ms.store(n, Relaxed);
        }
        if let Some(b) = v["approve_page"].as_bool() {
            app.approve_page.store(b, Relaxed);
        }
        {
            let mut st = app.state.lock().expect("state");
            if let Some(k) = v["audit_reject_keyword"].as_str() {
                st.settings.audit_reject_keyword = k.into();
            }
            if let Some(n) = v["access_token_ttl_secs"].as_i64() {
                st.settings.access_token_ttl_secs = n;
            }
            if let Some(n) = v["refresh_token_ttl_secs"].as_i64() {
                st.settings.refresh_token_ttl_secs = n;
            }
            if let Some(n) = v["auth_code_ttl_ms"].as_i64() {
                st.settings.auth_code_ttl_ms = n;
            }
            if let Some(n) = v["on_hold_ms"].as_u64() {
                st.settings.on_hold_ms = n;
            }
        }
        settings_json(&app)
    }))
}
