//! Cancellations and returns (with `idempotency_key` on every decision).

use serde_json::{Value, json};

use super::{Req, idempotent, in_window, paginate};
use crate::envelope::{ApiError, ApiResult};
use crate::state::State;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

pub fn cancellation_search(req: &Req, s: &mut State) -> ApiResult {
    let size = req.page_size(1, 50, Some(10))?;
    let body = req.json()?;
    let (ids, orders, types) = (
        strings(&body["cancel_ids"]),
        strings(&body["order_ids"]),
        strings(&body["cancel_types"]),
    );
    // A list of statuses (SDK `SearchCancellationsRequestBody`); a single string is read as a list of one
    // (the contract check still records it as a divergence).
    let statuses: Vec<String> = match &body["cancel_status"] {
        Value::String(s) => vec![s.clone()],
        v => strings(v),
    };
    let mut list: Vec<_> = s
        .cancellations
        .values()
        .filter(|c| c.shop_id == req.shop())
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .filter(|c| orders.is_empty() || orders.contains(&c.order_id))
        .filter(|c| types.is_empty() || types.contains(&c.cancel_type))
        .filter(|c| statuses.is_empty() || statuses.contains(&c.status))
        .filter(|c| {
            in_window(&body, "create_time", c.create_time) && in_window(&body, "update_time", c.update_time)
        })
        .collect();
    list.sort_by(|a, b| (b.create_time, &b.id).cmp(&(a.create_time, &a.id)));
    let all: Vec<Value> = list.iter().map(|c| c.to_json()).collect();
    let (page, next, total) = paginate(&all, size, req.q("page_token"))?;
    Ok(json!({ "cancellations": page, "next_page_token": next, "total_count": total }))
}

pub fn cancellation_approve(req: &Req, s: &mut State) -> ApiResult {
    let id = req.params[0].to_string();
    idempotent(req, s, |s| {
        s.decide_cancellation(req.shop(), &id, true, None, req.now)
    })
}

pub fn cancellation_reject(req: &Req, s: &mut State) -> ApiResult {
    let id = req.params[0].to_string();
    let body = req.json()?;
    let reason = body["reject_reason"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("reject_reason is required."))?
        .to_string();
    idempotent(req, s, |s| {
        s.decide_cancellation(req.shop(), &id, false, Some(reason), req.now)
    })
}

pub fn seller_cancel(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    let order_id = body["order_id"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("order_id is required."))?
        .to_string();
    let reason = body["cancel_reason"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("cancel_reason is required."))?
        .to_string();
    idempotent(req, s, |s| {
        s.seller_cancel(req.shop(), &order_id, &reason, req.now)
    })
}

pub fn return_search(req: &Req, s: &mut State) -> ApiResult {
    let size = req.page_size(10, 50, Some(10))?;
    let body = req.json()?;
    let (ids, orders, types, statuses) = (
        strings(&body["return_ids"]),
        strings(&body["order_ids"]),
        strings(&body["return_types"]),
        strings(&body["return_status"]),
    );
    let mut list: Vec<_> = s
        .returns
        .values()
        .filter(|r| r.shop_id == req.shop())
        .filter(|r| ids.is_empty() || ids.contains(&r.id))
        .filter(|r| orders.is_empty() || orders.contains(&r.order_id))
        .filter(|r| types.is_empty() || types.contains(&r.return_type))
        .filter(|r| statuses.is_empty() || statuses.contains(&r.status))
        .filter(|r| {
            in_window(&body, "create_time", r.create_time) && in_window(&body, "update_time", r.update_time)
        })
        .collect();
    list.sort_by(|a, b| (b.create_time, &b.id).cmp(&(a.create_time, &a.id)));
    let all: Vec<Value> = list.iter().map(|r| r.to_json()).collect();
    let (page, next, total) = paginate(&all, size, req.q("page_token"))?;
    Ok(json!({ "return_orders": page, "next_page_token": next, "total_count": total }))
}

pub fn return_approve(req: &Req, s: &mut State) -> ApiResult {
    let id = req.params[0].to_string();
    let body = req.json()?;
    let decision = body["decision"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("decision is required."))?
        .to_string();
    idempotent(req, s, |s| {
        s.decide_return(req.shop(), &id, true, &decision, req.now)
    })
}

pub fn return_reject(req: &Req, s: &mut State) -> ApiResult {
    let id = req.params[0].to_string();
    let body = req.json()?;
    let decision = body["decision"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("decision is required."))?
        .to_string();
    idempotent(req, s, |s| {
        s.decide_return(req.shop(), &id, false, &decision, req.now)
    })
}

/// The return's history, rebuilt from its status and the seller's decisions.
pub fn return_records(req: &Req, s: &mut State) -> ApiResult {
    let r = s
        .returns
        .get(req.params[0])
        .filter(|r| r.shop_id == req.shop())
        .ok_or_else(|| ApiError::not_found("return", req.params[0]))?;
    let mut records = vec![
        json!({ "event": "BUYER_REQUEST", "description": r.reason, "role": "BUYER", "create_time": r.create_time }),
    ];
    for d in &r.decisions {
        records.push(json!({ "event": d, "description": format!("Seller decision {d}"), "role": "SELLER", "create_time": r.update_time }));
    }
    Ok(json!({ "records": records }))
}
