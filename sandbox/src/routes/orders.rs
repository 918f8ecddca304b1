//! Orders and fulfillment endpoints.

use serde_json::{Value, json};

use super::{Req, in_window, paginate, sort_desc};
use crate::envelope::{ApiError, ApiResult};
use crate::state::State;
use crate::state::orders::{Order, STATUSES};

/// The filtered, sorted page of order ids plus `next_page_token` and `total_count`.
fn search_page(req: &Req, s: &State) -> Result<(Vec<String>, String, usize), ApiError> {
    let size = req.page_size(1, 100, Some(20))?;
    let body = req.json()?;
    let desc = sort_desc(req)?;
    let by_update = match req.q("sort_field") {
        None | Some("create_time") => false,
        Some("update_time") => true,
        Some(f) => {
            return Err(ApiError::bad_param(format!(
                "sort_field must be create_time or update_time (got {f:?})."
            )));
        }
    };
    let status = body["order_status"].as_str();
    if let Some(st) = status
        && !STATUSES.contains(&st)
    {
        return Err(ApiError::bad_request(format!("Unknown order_status {st:?}.")));
    }
    let buyer = body["buyer_user_id"].as_str();
    let mut list: Vec<&Order> = s
        .orders
        .values()
        .filter(|o| o.shop_id == req.shop())
        .filter(|o| status.is_none_or(|st| o.status == st))
        .filter(|o| {
            in_window(&body, "create_time", o.create_time) && in_window(&body, "update_time", o.update_time)
        })
        .filter(|o| buyer.is_none_or(|b| o.user_id == b))
        .collect();
    // Ids are decimal strings: compare by length first so "10" sorts after "9".
    fn key(o: &Order, by_update: bool) -> (i64, usize, &str) {
        (
            if by_update { o.update_time } else { o.create_time },
            o.id.len(),
            o.id.as_str(),
        )
    }
    list.sort_unstable_by(|a, b| {
        if desc {
            key(b, by_update).cmp(&key(a, by_update))
        } else {
            key(a, by_update).cmp(&key(b, by_update))
        }
    });
    let ids: Vec<String> = list.iter().map(|o| o.id.clone()).collect();
    paginate(&ids, size, req.q("page_token"))
}

pub fn search(req: &Req, s: &mut State) -> ApiResult {
    let (page, next, total) = search_page(req, s)?;
    let orders: Vec<Value> = page
        .iter()
        .map(|id| s.orders[id].to_json(&s.packages, false))
        .collect();
    Ok(json!({ "orders": orders, "next_page_token": next, "total_count": total }))
}

/// Same as `search`, with the orders from the per-order JSON cache.
pub fn search_raw(req: &Req, s: &mut State) -> Result<String, ApiError> {
    let (page, next, total) = search_page(req, s)?;
    let mut out = String::from("{\"orders\":[");
    for (i, id) in page.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(j) = s.order_json_cached(id, req.shop()) {
            out.push_str(&j);
        }
    }
    out.push_str(&format!(
        "],\"next_page_token\":{},\"total_count\":{total}}}",
        json!(next)
    ));
    Ok(out)
}

fn detail_ids<'r>(req: &'r Req) -> Result<Vec<&'r str>, ApiError> {
    let ids: Vec<&str> = req
        .q("ids")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(ApiError::bad_param(
            "ids is required (comma-separated order ids, at most 50).",
        ));
    }
    if ids.len() > 50 {
        return Err(ApiError::bad_param(format!(
            "ids: at most 50 order ids per request (got {}).",
            ids.len()
        )));
    }
    Ok(ids)
}

pub fn detail(req: &Req, s: &mut State) -> ApiResult {
    let ids = detail_ids(req)?;
    let orders: Vec<Value> = ids
        .iter()
        .filter_map(|id| s.orders.get(*id))
        .filter(|o| o.shop_id == req.shop())
        .map(|o| o.to_json(&s.packages, false))
        .collect();
    Ok(json!({ "orders": orders }))
}

/// Same as `detail`, served from the per-order JSON cache (the benchmark's hot path).
pub fn detail_raw(req: &Req, s: &mut State) -> Result<String, ApiError> {
    let ids = detail_ids(req)?;
    let mut out = String::from("{\"orders\":[");
    let mut first = true;
    for id in ids {
        if let Some(json) = s.order_json_cached(id, req.shop()) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&json);
        }
    }
    out.push_str("]}");
    Ok(out)
}

pub fn package_search(req: &Req, s: &mut State) -> ApiResult {
    let size = req.page_size(1, 50, Some(20))?;
    let body = req.json()?;
    let desc = sort_desc(req)?;
    let status = body["package_status"].as_str();
    let mut list: Vec<_> = s
        .packages
        .values()
        .filter(|p| p.shop_id == req.shop())
        .filter(|p| status.is_none_or(|st| p.status == st))
        .filter(|p| {
            in_window(&body, "create_time", p.create_time) && in_window(&body, "update_time", p.update_time)
        })
        .collect();
    let by_update = req.q("sort_field") == Some("update_time");
    list.sort_by(|a, b| {
        let k = |p: &&crate::state::orders::Package| {
            (
                if by_update { p.update_time } else { p.create_time },
                p.id.clone(),
            )
        };
        if desc { k(b).cmp(&k(a)) } else { k(a).cmp(&k(b)) }
    });
    let all: Vec<Value> = list.iter().map(|p| p.to_json()).collect();
    let (page, next, total) = paginate(&all, size, req.q("page_token"))?;
    Ok(json!({ "packages": page, "next_page_token": next, "total_count": total }))
}

pub fn package_detail(req: &Req, s: &mut State) -> ApiResult {
    let p = s
        .packages
        .get(req.params[0])
        .filter(|p| p.shop_id == req.shop())
        .ok_or_else(|| ApiError::not_found("package", req.params[0]))?;
    Ok(p.detail_json())
}

pub fn ship_package(req: &Req, s: &mut State) -> ApiResult {
    let id = req.params[0];
    if s.packages.get(id).is_none_or(|p| p.shop_id != req.shop()) {
        return Err(ApiError::not_found("package", id));
    }
    let body = req.json()?;
    let handover = body["handover_method"].as_str().unwrap_or("PICKUP");
    if !matches!(handover, "PICKUP" | "DROP_OFF") {
        return Err(ApiError::bad_request(format!(
            "handover_method must be PICKUP or DROP_OFF (got {handover:?})."
        )));
    }
    let tracking = match body.get("self_shipment") {
        Some(ss) => {
            let tn = ss["tracking_number"].as_str().filter(|t| !t.is_empty());
            let pid = ss["shipping_provider_id"].as_str().filter(|t| !t.is_empty());
            match (tn, pid) {
                (Some(tn), Some(pid)) => Some((tn.to_string(), pid.to_string())),
                _ => {
                    return Err(ApiError::bad_request(
                        "self_shipment needs tracking_number and shipping_provider_id.",
                    ));
                }
            }
        }
        None => None,
    };
    s.ship_package(id, tracking, handover, req.now)?;
    Ok(json!({}))
}

pub fn mark_shipped(req: &Req, s: &mut State) -> ApiResult {
    let order_id = req.params[0];
    if s.orders.get(order_id).is_none_or(|o| o.shop_id != req.shop()) {
        return Err(ApiError::not_found("order", order_id));
    }
    let body = req.json()?;
    let tn = body["tracking_number"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("tracking_number is required."))?;
    let pid = body["shipping_provider_id"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("shipping_provider_id is required."))?;
    if crate::state::catalog::provider_name(pid).is_none() {
        return Err(ApiError::bad_request(format!(
            "shipping_provider_id {pid} is not a known shipping provider."
        )));
    }
    let items = body["order_line_item_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect());
    let package_id = s.mark_shipped(order_id, items, tn.into(), pid.into(), req.now)?;
    Ok(json!({ "order_id": order_id, "package_id": package_id }))
}

pub fn tracking(req: &Req, s: &mut State) -> ApiResult {
    let o = s
        .orders
        .get(req.params[0])
        .filter(|o| o.shop_id == req.shop())
        .ok_or_else(|| ApiError::not_found("order", req.params[0]))?;
    // Newest first, like TikTok's tracking timeline.
    let events: Vec<Value> = o
        .tracking
        .iter()
        .rev()
        .map(|(d, t)| json!({ "description": d, "update_time_millis": t }))
        .collect();
    Ok(json!({ "tracking": events }))
}

/// Batch ship: per-package errors instead of failing the whole call.
pub fn batch_ship(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    let list = body["packages"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return Err(ApiError::bad_request("packages is required."));
    }
    let mut errors = Vec::new();
    for p in list {
        let id = p["id"].as_str().unwrap_or("").to_string();
        let tracking = p["self_shipment"]["tracking_number"]
            .as_str()
            .zip(p["self_shipment"]["shipping_provider_id"].as_str())
            .map(|(t, pid)| (t.to_string(), pid.to_string()));
        let handover = p["handover_method"].as_str().unwrap_or("PICKUP");
        let r = if s.packages.get(&id).is_some_and(|x| x.shop_id == req.shop()) {
            s.ship_package(&id, tracking, handover, req.now)
        } else {
            Err(ApiError::not_found("package", &id))
        };
        if let Err(e) = r {
            errors.push(json!({ "code": e.code, "message": e.message, "detail": { "package_id": id } }));
        }
    }
    Ok(json!({ "errors": errors }))
}

pub fn shipping_documents(req: &Req, s: &mut State) -> ApiResult {
    let p = s
        .packages
        .get(req.params[0])
        .filter(|p| p.shop_id == req.shop())
        .ok_or_else(|| ApiError::not_found("package", req.params[0]))?;
    let doc = req
        .q("document_type")
        .ok_or_else(|| ApiError::bad_param("document_type is required."))?;
    if p.status == "PROCESSING" && doc.contains("LABEL") {
        return Err(ApiError::business(
            crate::envelope::codes::INVALID_STATE,
            "The package is not shipped yet: no shipping label.",
        ));
    }
    Ok(json!({
        "doc_url": format!("{}/_sandbox/documents/{}/{}.pdf", req.base_url, p.id, doc.to_ascii_lowercase()),
        "tracking_number": p.tracking_number,
    }))
}

fn tracking_body(req: &Req) -> Result<(String, String), ApiError> {
    let body = req.json()?;
    let tn = body["tracking_number"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("tracking_number is required."))?;
    let pid = body["shipping_provider_id"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("shipping_provider_id is required."))?;
    if crate::state::catalog::provider_name(pid).is_none() {
        return Err(ApiError::bad_request(format!(
            "shipping_provider_id {pid} is not a known shipping provider."
        )));
    }
    Ok((tn.to_string(), pid.to_string()))
}

/// Fix the tracking number/provider of a shipped package (seller-shipped; TikTok allows it within 72 h).
pub fn package_shipping_info(req: &Req, s: &mut State) -> ApiResult {
    let (tn, pid) = tracking_body(req)?;
    let id = req.params[0];
    let p = s
        .packages
        .get_mut(id)
        .filter(|p| p.shop_id == req.shop())
        .ok_or_else(|| ApiError::not_found("package", id))?;
    if p.status != "FULFILLING" {
        return Err(ApiError::business(
            crate::envelope::codes::INVALID_STATE,
            format!(
                "Package {id} is {}: only shipped packages can be updated.",
                p.status
            ),
        ));
    }
    if req.now - p.update_time > 72 * 3600 {
        return Err(ApiError::business(
            crate::envelope::codes::INVALID_STATE,
            "Shipping info can only be changed within 72 hours of shipping.",
        ));
    }
    p.tracking_number = tn;
    p.shipping_provider_name = crate::state::catalog::provider_name(&pid).unwrap_or("").into();
    p.shipping_provider_id = pid;
    p.update_time = req.now;
    Ok(json!({}))
}

pub fn order_shipping_info(req: &Req, s: &mut State) -> ApiResult {
    let o = s
        .orders
        .get(req.params[0])
        .filter(|o| o.shop_id == req.shop())
        .ok_or_else(|| ApiError::not_found("order", req.params[0]))?;
    let shipped: Vec<String> = o
        .packages
        .iter()
        .filter(|id| s.packages.get(*id).is_some_and(|p| p.status == "FULFILLING"))
        .cloned()
        .collect();
    let [only] = shipped.as_slice() else {
        return Err(ApiError::business(
            crate::envelope::codes::INVALID_STATE,
            "The order needs exactly one shipped package; update the package instead.",
        ));
    };
    let only = only.clone();
    let mut params = req.params.clone();
    params[0] = &only;
    let r2 = Req { params, ..*req };
    package_shipping_info(&r2, s)
}
