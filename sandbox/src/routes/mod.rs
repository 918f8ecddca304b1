//! The operation table (method, path template, takes `shop_cipher`, scope, handler) and the helpers
//! handlers share. The gateway (`app.rs`) routes by this table, so unknown paths and wrong methods get
//! TikTok's own codes and no handler ever runs for a request that failed a protocol check.

mod aftersales;
mod events;
mod logistics;
mod orders;
mod products;
mod seller;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::envelope::{ApiError, ApiResult, codes};
use crate::state::State;

/// What a handler sees of the request (already authenticated; `shop_id` resolved from cipher or token).
pub struct Req<'a> {
    pub app_key: &'a str,
    pub open_id: &'a str,
    pub shop_id: Option<&'a str>,
    pub params: Vec<&'a str>,
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
    pub content_type: Option<&'a str>,
    pub now: i64,
    pub op: &'static Op,
    /// `host:port` of the sandbox, for URLs it hands out.
    pub base_url: &'a str,
}

impl Req<'_> {
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn shop(&self) -> &str {
        self.shop_id.unwrap_or("")
    }

    /// The JSON body; an absent/empty body is `{}`.
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(self.body)
            .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))
    }

    /// `page_size` within [min, max] (default used when absent and `default` is Some).
    pub fn page_size(&self, min: usize, max: usize, default: Option<usize>) -> Result<usize, ApiError> {
        match (self.q("page_size"), default) {
            (None, Some(d)) => Ok(d),
            (None, None) => Err(ApiError::bad_param(format!(
                "page_size is required ({min}-{max})."
            ))),
            (Some(v), _) => match v.parse::<usize>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::bad_param(format!(
                    "page_size must be {min}-{max} (got {v:?})."
                ))),
            },
        }
    }

    /// `idempotency_key` from the query (≤255 chars).
    pub fn idempotency_key(&self) -> Result<Option<String>, ApiError> {
        match self.q("idempotency_key") {
            Some(k) if k.chars().count() > 255 => Err(ApiError::bad_request(
                "idempotency_key must be at most 255 characters.",
            )),
            Some(k) if !k.is_empty() => Ok(Some(k.to_string())),
            _ => Ok(None),
        }
    }
}

pub type Handler = fn(&Req, &mut State) -> ApiResult;
/// A handler that returns the `data` JSON already serialized (hot read paths with cached JSON).
pub type RawHandler = fn(&Req, &mut State) -> Result<String, ApiError>;

pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    /// Whether the operation takes `shop_cipher` (spec §1.1); others reject it.
    pub cipher: bool,
    pub scope: &'static str,
    pub handler: Handler,
    pub raw: Option<RawHandler>,
}

impl Op {
    /// Searches and GETs do not change state (their results may be served from caches).
    pub fn read_only(&self) -> bool {
        self.method == "GET" || self.path.ends_with("/search")
    }

    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Path params if `path` fits this template.
    pub fn match_path<'p>(&self, path: &'p str) -> Option<Vec<&'p str>> {
        let mut params = Vec::new();
        let mut t = self.path.split('/');
        let mut p = path.split('/');
        loop {
            match (t.next(), p.next()) {
                (None, None) => return Some(params),
                (Some(ts), Some(ps)) if ts.starts_with('{') => {
                    if ps.is_empty() {
                        return None;
                    }
                    params.push(ps);
                }
                (Some(ts), Some(ps)) if ts == ps => {}
                _ => return None,
            }
        }
    }

    fn literal_segments(&self) -> usize {
        self.path.split('/').filter(|s| !s.starts_with('{')).count()
    }
}

const AUTH: &str = "seller.authorization.info";
const SHOP: &str = "seller.shop.info";
const PROD_R: &str = "seller.product.basic";
const PROD_W: &str = "seller.product.write";
const ORDER: &str = "seller.order.info";
const FULFIL: &str = "seller.fulfillment.basic";
const LOGI: &str = "seller.logistics";
const RR: &str = "seller.return_refund.basic";
const EVENT: &str = "seller.event";

macro_rules! op {
    ($m:literal, $p:literal, $c:expr, $s:expr, $h:expr, raw = $r:expr) => {
        Op {
            method: $m,
            path: $p,
            cipher: $c,
            scope: $s,
            handler: $h,
            raw: Some($r),
        }
    };
    ($m:literal, $p:literal, $c:expr, $s:expr, $h:expr) => {
        Op {
            method: $m,
            path: $p,
            cipher: $c,
            scope: $s,
            handler: $h,
            raw: None,
        }
    };
}

#[rustfmt::skip]
pub const OPS: &[Op] = &[
    op!("GET", "/authorization/202309/shops", false, AUTH, seller::authorized_shops),
    op!("GET", "/seller/202309/shops", false, SHOP, seller::active_shops),
    op!("GET", "/seller/202309/permissions", false, SHOP, seller::permissions),
    op!("POST", "/product/202309/products/search", true, PROD_R, products::search),
    op!("GET", "/product/202309/products/{product_id}", true, PROD_R, products::detail),
    op!("POST", "/product/202309/products", true, PROD_W, products::create),
    op!("PUT", "/product/202309/products/{product_id}", true, PROD_W, products::edit),
    op!("POST", "/product/202309/products/{product_id}/partial_edit", true, PROD_W, products::partial_edit),
    op!("DELETE", "/product/202309/products", true, PROD_W, products::delete),
    op!("POST", "/product/202309/products/activate", true, PROD_W, products::activate),
    op!("POST", "/product/202309/products/deactivate", true, PROD_W, products::deactivate),
    op!("POST", "/product/202309/products/recover", true, PROD_W, products::recover),
    op!("POST", "/product/202309/products/listing_check", true, PROD_R, products::listing_check),
    op!("POST", "/product/202309/products/{product_id}/inventory/update", true, PROD_W, products::inventory_update),
    op!("POST", "/product/202309/inventory/search", true, PROD_R, products::inventory_search),
    op!("POST", "/product/202309/products/{product_id}/prices/update", true, PROD_W, products::prices_update),
    op!("POST", "/product/202309/images/upload", false, PROD_R, products::image_upload),
    op!("POST", "/product/202309/files/upload", false, PROD_R, products::file_upload),
    op!("GET", "/product/202309/categories", true, PROD_R, products::categories),
    op!("GET", "/product/202309/categories/{category_id}/attributes", true, PROD_R, products::attributes),
    op!("GET", "/product/202309/categories/{category_id}/rules", true, PROD_R, products::category_rules),
    op!("POST", "/product/202309/categories/recommend", true, PROD_R, products::recommend_category),
    op!("GET", "/product/202309/brands", true, PROD_R, products::brands),
    op!("POST", "/product/202309/brands", false, PROD_W, products::create_brand),
    op!("POST", "/order/202309/orders/search", true, ORDER, orders::search, raw = orders::search_raw),
    op!("GET", "/order/202309/orders", true, ORDER, orders::detail, raw = orders::detail_raw),
    op!("POST", "/fulfillment/202309/packages/search", true, FULFIL, orders::package_search),
    op!("GET", "/fulfillment/202309/packages/{package_id}", true, FULFIL, orders::package_detail),
    op!("POST", "/fulfillment/202309/packages/{package_id}/ship", true, FULFIL, orders::ship_package),
    op!("POST", "/fulfillment/202309/packages/ship", true, FULFIL, orders::batch_ship),
    op!("GET", "/fulfillment/202309/packages/{package_id}/shipping_documents", true, FULFIL, orders::shipping_documents),
    op!("POST", "/fulfillment/202309/packages/{package_id}/shipping_info/update", true, FULFIL, orders::package_shipping_info),
    op!("POST", "/fulfillment/202309/orders/{order_id}/packages", true, FULFIL, orders::mark_shipped),
    op!("GET", "/fulfillment/202309/orders/{order_id}/tracking", true, FULFIL, orders::tracking),
    op!("POST", "/fulfillment/202309/orders/{order_id}/shipping_info/update", true, FULFIL, orders::order_shipping_info),
    op!("GET", "/logistics/202309/warehouses", true, LOGI, logistics::warehouses),
    op!("GET", "/logistics/202309/warehouses/{warehouse_id}/delivery_options", true, LOGI, logistics::delivery_options),
    op!("GET", "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers", true, LOGI, logistics::providers),
    op!("GET", "/logistics/202309/global_warehouses", false, LOGI, logistics::global_warehouses),
    op!("POST", "/return_refund/202309/cancellations/search", true, RR, aftersales::cancellation_search),
    op!("POST", "/return_refund/202309/cancellations/{cancel_id}/approve", true, RR, aftersales::cancellation_approve),
    op!("POST", "/return_refund/202309/cancellations/{cancel_id}/reject", true, RR, aftersales::cancellation_reject),
    op!("POST", "/return_refund/202309/cancellations", true, RR, aftersales::seller_cancel),
    op!("POST", "/return_refund/202309/returns/search", true, RR, aftersales::return_search),
    op!("POST", "/return_refund/202309/returns/{return_id}/approve", true, RR, aftersales::return_approve),
    op!("POST", "/return_refund/202309/returns/{return_id}/reject", true, RR, aftersales::return_reject),
    op!("GET", "/return_refund/202309/returns/{return_id}/records", true, RR, aftersales::return_records),
    op!("GET", "/event/202309/webhooks", true, EVENT, events::list),
    op!("PUT", "/event/202309/webhooks", true, EVENT, events::put),
    op!("DELETE", "/event/202309/webhooks", true, EVENT, events::delete),
];

pub const OPS_LEN: usize = OPS.len();

/// " The sandbox implements version 202309 of this API." when only the version segment differs.
pub fn other_version_hint(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    let v = segs
        .get(2)
        .filter(|v| v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()))?;
    OPS.iter().find_map(|op| {
        let t: Vec<&str> = op.path.split('/').collect();
        let same = t.len() == segs.len()
            && t.iter()
                .zip(&segs)
                .enumerate()
                .all(|(i, (a, b))| i == 2 || a.starts_with('{') || a == b);
        (same && t[2] != *v).then(|| format!(" The sandbox implements version {} of this API.", t[2]))
    })
}

pub enum RouteMatch<'p> {
    Found(usize, Vec<&'p str>),
    WrongMethod,
    NotFound,
}

/// Finds the operation; templates with more literal segments win (`/products/activate` over `/products/{id}`).
pub fn route<'p>(method: &str, path: &'p str) -> RouteMatch<'p> {
    let mut best: Option<(usize, usize, Vec<&'p str>)> = None;
    let mut path_known = false;
    for (i, op) in OPS.iter().enumerate() {
        if let Some(params) = op.match_path(path) {
            path_known = true;
            if op.method == method {
                let lit = op.literal_segments();
                if best.as_ref().is_none_or(|(_, l, _)| lit > *l) {
                    best = Some((i, lit, params));
                }
            }
        }
    }
    match best {
        Some((i, _, params)) => RouteMatch::Found(i, params),
        None if path_known => RouteMatch::WrongMethod,
        None => RouteMatch::NotFound,
    }
}

/// Raw prefix bytes that make every page token contain `+` and `/` (as real TikTok tokens often do), so
/// clients that forget to percent-encode them fail here rather than in production.
const TOKEN_PREFIX: [u8; 3] = [0xfb, 0xef, 0xff];

pub fn encode_page_token(offset: usize) -> String {
    let mut raw = TOKEN_PREFIX.to_vec();
    raw.extend_from_slice(format!("sbx:o={offset}").as_bytes());
    STANDARD.encode(raw)
}

pub fn decode_page_token(token: Option<&str>) -> Result<usize, ApiError> {
    let Some(t) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let bad = || {
        ApiError::bad_param(format!(
            "Invalid page_token {t:?} (was it percent-encoded? '+' must be sent as %2B)."
        ))
    };
    let raw = STANDARD.decode(t).map_err(|_| bad())?;
    let rest = raw.strip_prefix(&TOKEN_PREFIX[..]).ok_or_else(bad)?;
    let s = std::str::from_utf8(rest).map_err(|_| bad())?;
    s.strip_prefix("sbx:o=")
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)
}

/// One page of `items` plus the `next_page_token` ("" on the last page) and `total_count`.
pub fn paginate<T: Clone>(
    items: &[T],
    page_size: usize,
    token: Option<&str>,
) -> Result<(Vec<T>, String, usize), ApiError> {
    let offset = decode_page_token(token)?;
    let end = (offset + page_size).min(items.len());
    let page = if offset < items.len() {
        items[offset..end].to_vec()
    } else {
        Vec::new()
    };
    let next = if end < items.len() {
        encode_page_token(end)
    } else {
        String::new()
    };
    Ok((page, next, items.len()))
}

/// `sort_order` ASC/DESC (default DESC) and validation.
pub fn sort_desc(req: &Req) -> Result<bool, ApiError> {
    match req.q("sort_order") {
        None | Some("DESC") => Ok(true),
        Some("ASC") => Ok(false),
        Some(o) => Err(ApiError::bad_param(format!(
            "sort_order must be ASC or DESC (got {o:?})."
        ))),
    }
}

/// `[ge, lt)` filter on a timestamp from body fields `<field>_ge` / `<field>_lt` (or `_le`).
pub fn in_window(body: &Value, field: &str, t: i64) -> bool {
    let ge = body[format!("{field}_ge")].as_i64();
    let lt = body[format!("{field}_lt")].as_i64();
    let le = body[format!("{field}_le")].as_i64();
    ge.is_none_or(|g| t >= g) && lt.is_none_or(|l| t < l) && le.is_none_or(|l| t <= l)
}

/// Replays the stored result for a repeated `idempotency_key`, or runs `f` and stores its result.
pub fn idempotent(req: &Req, state: &mut State, f: impl FnOnce(&mut State) -> ApiResult) -> ApiResult {
    let Some(key) = req.idempotency_key()? else {
        return f(state);
    };
    let k = (
        req.app_key.to_string(),
        req.shop().to_string(),
        req.op.name() + "|" + req.params.join("/").as_str(),
        key,
    );
    if let Some(v) = state.idempotency.get(&k) {
        return Ok(v.clone());
    }
    let v = f(state)?;
    state.idempotency.insert(k, v.clone());
    Ok(v)
}

pub fn invalid_state(msg: impl Into<String>) -> ApiError {
    ApiError::business(codes::INVALID_STATE, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_contain_plus_and_slash_and_round_trip() {
        let t = encode_page_token(40);
        assert!(t.contains('+') && t.contains('/'), "{t}");
        assert_eq!(decode_page_token(Some(&t)).unwrap(), 40);
        assert!(decode_page_token(Some(&t.replace('+', " "))).is_err());
    }

    #[test]
    fn literal_templates_win_and_methods_are_checked() {
        match route("POST", "/product/202309/products/activate") {
            RouteMatch::Found(i, _) => assert_eq!(OPS[i].path, "/product/202309/products/activate"),
            _ => panic!("not found"),
        }
        assert!(matches!(
            route("PATCH", "/order/202309/orders"),
            RouteMatch::WrongMethod
        ));
        assert!(matches!(route("GET", "/order/202309/nope"), RouteMatch::NotFound));
    }
}
