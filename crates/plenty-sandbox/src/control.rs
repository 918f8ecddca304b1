//! The control API under `/_plenty/` (plain JSON, no token): seed, change stock, ship orders, counters,
//! plan/window, sessions, faults, reset. Extend it, don't change it: test suites depend on its shape.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use crate::app::{PlentySandbox, json_response};
use crate::config::Plan;
use crate::faults::FaultRule;

type S = State<Arc<PlentySandbox>>;

pub fn router() -> Router<Arc<PlentySandbox>> {
    Router::new()
        .route("/health", get(|| async { axum::Json(json!({ "ok": true })) }))
        .route("/info", get(info))
        .route("/reset", post(reset))
        .route("/seed", post(seed))
        .route("/stock", post(stock))
        .route("/orders/{id}", get(order))
        .route("/orders/{id}/ship", post(ship))
        .route("/counters", get(counters).delete(reset_counters))
        .route("/limits", get(get_limits).put(put_limits))
        .route("/sessions", get(get_sessions).put(put_sessions))
        .route("/sessions/reset", post(reset_sessions))
        .route("/sessions/invalidate", post(reset_sessions))
        .route("/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/faults/{id}", delete(remove_fault))
        .route("/images/{item}/{file}", get(image))
}

fn bad(message: impl Into<String>) -> Response {
    json_response(400, json!({ "error": message.into() }))
}

fn body(raw: &Bytes) -> Result<Value, String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(raw).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn info(State(app): S) -> Response {
    json_response(200, app.info())
}

async fn reset(State(app): S) -> Response {
    app.reset();
    json_response(200, json!({ "reset": true }))
}

/// `{"items": N}` generates N more items; `{"item_with_variations": N}` adds one item with N variations
/// (e.g. 301 for a 300-SKU region); `{"orders": N}` creates N sales orders on seeded variations
/// (external order ids `seed-<n>`).
async fn seed(State(app): S, raw: Bytes) -> Response {
    let v = match body(&raw) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let now = crate::clock::now_secs();
    let mut store = app.store.lock().expect("store");
    let mut items = Vec::new();
    for _ in 0..v["items"].as_u64().unwrap_or(0).min(10_000) {
        let n = store.catalog.item_count();
        items.push(store.catalog.add_generated_item(n, now));
    }
    if let Some(count) = v["item_with_variations"].as_u64() {
        let n = store.catalog.item_count();
        items.push(
            store
                .catalog
                .add_item(n, Some(count.clamp(1, 2000) as usize), now),
        );
    }
    let mut orders = Vec::new();
    let variation_ids: Vec<i64> = store.catalog.variations.keys().copied().collect();
    for n in 0..v["orders"].as_u64().unwrap_or(0).min(10_000) {
        let variation = variation_ids[n as usize % variation_ids.len()];
        let order = json!({
            "typeId": 1, "plentyId": 1000, "statusId": 5, "referrerId": 1,
            "orderItems": [{"typeId": 1, "itemVariationId": variation, "quantity": 1, "orderItemName": format!("Artikel {variation}"), "referrerId": 1,
                            "amounts": [{"currency": "EUR", "priceOriginalGross": 19.99}]}],
            "properties": [{"typeId": 7, "value": format!("seed-{}", store.orders.len() + 1)}],
        });
        match store.create_order(order, now) {
            Ok(o) => orders.push(o["id"].clone()),
            Err(e) => return json_response(500, e.body),
        }
    }
    json_response(
        200,
        json!({ "items": items, "orders": orders, "item_count": store.catalog.item_count(), "variation_count": store.catalog.variations.len() }),
    )
}

/// `{"variation_id", "warehouse_id", "physical": N}` or `{"delta": ±N}`; bumps `stockUpdatedAt`.
async fn stock(State(app): S, raw: Bytes) -> Response {
    let v = match body(&raw) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let (Some(variation), Some(warehouse)) = (v["variation_id"].as_i64(), v["warehouse_id"].as_i64()) else {
        return bad("variation_id and warehouse_id are required");
    };
    let result = app.store.lock().expect("store").catalog.set_stock(
        variation,
        warehouse,
        v["physical"].as_i64(),
        v["delta"].as_i64(),
        crate::clock::now_secs(),
    );
    match result {
        Ok(rows) => json_response(200, json!({ "stock": rows })),
        Err(e) => json_response(404, json!({ "error": e })),
    }
}

async fn order(State(app): S, Path(id): Path<i64>) -> Response {
    crate::rest::answer(app.store.lock().expect("store").order(id))
}

/// Adds a shipping package (`{"package_number"?}`) and sets status 7.
async fn ship(State(app): S, Path(id): Path<i64>, raw: Bytes) -> Response {
    let v = match body(&raw) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let number = v["package_number"].as_str().map(String::from);
    crate::rest::answer(
        app.store
            .lock()
            .expect("store")
            .ship(id, number, crate::clock::now_secs()),
    )
}

async fn counters(State(app): S) -> Response {
    json_response(200, app.stats.to_json())
}

async fn reset_counters(State(app): S) -> Response {
    app.stats.reset();
    json_response(200, json!({ "reset": true }))
}

fn limits_json(app: &PlentySandbox) -> Value {
    let l = app.limits.lock().expect("limits");
    json!({
        "plan": l.plan,
        "window_secs": l.window.as_secs_f64(),
        "long_window_secs": l.long_window.as_secs_f64(),
        "route_limits": l.route_limits,
    })
}

async fn get_limits(State(app): S) -> Response {
    json_response(200, limits_json(&app))
}

/// `{plan?: "basic"|…, reads_per_window?, writes_per_window?, reads_per_day?, writes_per_day?,
/// window_secs?, long_window_secs?, route_limits?: {"POST /rest/orders": N | null}}`. Windows restart.
async fn put_limits(State(app): S, raw: Bytes) -> Response {
    let v = match body(&raw) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    {
        let mut l = app.limits.lock().expect("limits");
        if let Some(name) = v["plan"].as_str() {
            match Plan::named(name) {
                Some(p) => l.plan = p,
                None => return bad(format!("unknown plan {name}")),
            }
        }
        let count = |k: &str| v[k].as_u64().map(|n| n.min(u32::MAX as u64) as u32);
        let plan = &mut l.plan;
        plan.reads_per_window = count("reads_per_window").unwrap_or(plan.reads_per_window);
        plan.writes_per_window = count("writes_per_window").unwrap_or(plan.writes_per_window);
        plan.reads_per_day = count("reads_per_day").unwrap_or(plan.reads_per_day);
        plan.writes_per_day = count("writes_per_day").unwrap_or(plan.writes_per_day);
        let secs = |k: &str| {
            v[k].as_f64()
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
        };
        if let Some(w) = secs("window_secs") {
            l.window = w;
        }
        if let Some(w) = secs("long_window_secs") {
            l.long_window = w;
        }
        if let Some(routes) = v["route_limits"].as_object() {
            for (route, n) in routes {
                match n.as_u64() {
                    Some(n) => l.route_limits.insert(route.clone(), n as u32),
                    None => l.route_limits.remove(route),
                };
            }
        }
        l.clear_windows();
    }
    json_response(200, limits_json(&app))
}

fn sessions_json(app: &PlentySandbox) -> Value {
    let mut s = app.sessions.lock().expect("sessions");
    json!({ "valid": s.valid_count(Instant::now()), "cap": s.cap, "token_ttl_secs": s.ttl.as_secs_f64() })
}

async fn get_sessions(State(app): S) -> Response {
    json_response(200, sessions_json(&app))
}

/// `{cap?, token_ttl_secs?}` (applies to later logins).
async fn put_sessions(State(app): S, raw: Bytes) -> Response {
    let v = match body(&raw) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    {
        let mut s = app.sessions.lock().expect("sessions");
        if let Some(n) = v["cap"].as_u64() {
            s.cap = n as usize;
        }
        if let Some(t) = v["token_ttl_secs"].as_f64().filter(|t| t.is_finite() && *t > 0.0) {
            s.ttl = Duration::from_secs_f64(t);
        }
    }
    json_response(200, sessions_json(&app))
}

/// Ends every session: tokens in use answer 401 from now on (`/sessions/invalidate` is the same).
async fn reset_sessions(State(app): S) -> Response {
    let ended = app.sessions.lock().expect("sessions").clear();
    json_response(200, json!({ "ended": ended }))
}

async fn list_faults(State(app): S) -> Response {
    json_response(200, json!({ "faults": app.faults.list() }))
}

async fn add_fault(State(app): S, raw: Bytes) -> Response {
    let v = match body(&raw) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    match serde_json::from_value::<FaultRule>(v) {
        Err(e) => bad(format!("invalid fault: {e}")),
        Ok(rule) => match app.faults.add(rule) {
            Ok(r) => json_response(200, json!(r)),
            Err(e) => bad(e),
        },
    }
}

async fn clear_faults(State(app): S) -> Response {
    json_response(200, json!({ "removed": app.faults.remove(None) }))
}

async fn remove_fault(State(app): S, Path(id): Path<u64>) -> Response {
    json_response(200, json!({ "removed": app.faults.remove(Some(id)) }))
}

/// Image URLs of the catalogue resolve to a real 1200×1200 PNG (the size the catalogue JSON states;
/// TikTok refuses main images under 300×300 px).
async fn image() -> Response {
    static PNG: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| placeholder_png(1200));
    ([(header::CONTENT_TYPE, "image/png")], PNG.as_slice()).into_response()
}

/// A valid white `side`×`side` PNG (1-bit grayscale), built without an image library: the pixel rows go
/// into stored (uncompressed) deflate blocks inside a zlib stream, with the checksums PNG requires.
fn placeholder_png(side: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn adler32(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in data {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let row_bytes = side.div_ceil(8) as usize;
    let mut raw = Vec::with_capacity((row_bytes + 1) * side as usize);
    for _ in 0..side {
        raw.push(0); // filter: none
        raw.extend(std::iter::repeat_n(0xff, row_bytes)); // white
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len())); // BFINAL on the last, BTYPE 00 = stored
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // bit depth 1, grayscale, deflate, no filter method, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[cfg(test)]
mod png_tests {
    #[test]
    fn the_placeholder_is_a_well_formed_png_of_the_stated_size() {
        let png = super::placeholder_png(1200);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1200);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 1200);
        // IHDR's CRC covers type and data
        let crc = u32::from_be_bytes(png[29..33].try_into().unwrap());
        let mut c = 0xffff_ffffu32;
        for &b in &png[12..29] {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    (c >> 1) ^ 0xedb8_8320
                } else {
                    c >> 1
                };
            }
        }
        assert_eq!(crc, !c);
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
    }
}
