//! Shop webhook subscriptions: `GET/PUT/DELETE /event/202309/webhooks`.

use serde_json::json;

use super::Req;
use crate::envelope::{ApiError, ApiResult};
use crate::state::{EVENT_TYPES, State, Subscription};

fn event_type(body: &serde_json::Value) -> Result<String, ApiError> {
    let t = body["event_type"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("event_type is required."))?;
    if !EVENT_TYPES.iter().any(|(n, _)| *n == t) {
        return Err(ApiError::bad_request(format!("Unknown event_type {t:?}.")));
    }
    Ok(t.to_string())
}

pub fn list(req: &Req, s: &mut State) -> ApiResult {
    let mut hooks: Vec<_> = s
        .subscriptions
        .iter()
        .filter(|((a, sh, _), _)| a == req.app_key && sh == req.shop())
        .map(|((_, _, t), sub)| json!({ "event_type": t, "address": sub.address, "create_time": sub.create_time, "update_time": sub.update_time }))
        .collect();
    hooks.sort_by(|a, b| a["event_type"].as_str().cmp(&b["event_type"].as_str()));
    Ok(json!({ "total_count": hooks.len(), "webhooks": hooks }))
}

pub fn put(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    let t = event_type(&body)?;
    let address = body["address"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("address is required."))?;
    // Real TikTok requires https on a domain; the sandbox also takes http://127.0.0.1 receivers.
    if address.len() > 255 || !(address.starts_with("https://") || address.starts_with("http://")) {
        return Err(ApiError::bad_request(
            "address must be an http(s) URL of at most 255 characters.",
        ));
    }
    let key = (req.app_key.to_string(), req.shop().to_string(), t);
    let create_time = s
        .subscriptions
        .get(&key)
        .map(|x| x.create_time)
        .unwrap_or(req.now);
    s.subscriptions.insert(
        key,
        Subscription {
            address: address.to_string(),
            create_time,
            update_time: req.now,
        },
    );
    Ok(json!({}))
}

pub fn delete(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    let t = event_type(&body)?;
    s.subscriptions
        .remove(&(req.app_key.to_string(), req.shop().to_string(), t));
    Ok(json!({}))
}
