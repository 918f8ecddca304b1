//! Warehouses, delivery options, shipping providers (static reference data per shop).

use super::Req;
use crate::envelope::{ApiError, ApiResult};
use crate::state::{State, catalog};

pub fn warehouses(req: &Req, s: &mut State) -> ApiResult {
    let region = s
        .shops
        .get(req.shop())
        .map(|x| x.region.clone())
        .unwrap_or_default();
    Ok(catalog::warehouses_json(req.shop(), &region))
}

pub fn delivery_options(req: &Req, _s: &mut State) -> ApiResult {
    let wid = req.params[0];
    if wid != catalog::warehouse_id(req.shop(), 0) && wid != catalog::warehouse_id(req.shop(), 1) {
        return Err(ApiError::not_found("warehouse", wid));
    }
    Ok(catalog::delivery_options_json())
}

pub fn providers(req: &Req, _s: &mut State) -> ApiResult {
    let id = req.params[0];
    if !catalog::DELIVERY_OPTIONS.iter().any(|(d, _, _)| *d == id) {
        return Err(ApiError::not_found("delivery option", id));
    }
    Ok(catalog::providers_json())
}

/// Global (cross-border) warehouses: the sandbox's sellers have none.
pub fn global_warehouses(_req: &Req, _s: &mut State) -> ApiResult {
    Ok(serde_json::json!({ "global_warehouses": [] }))
}
