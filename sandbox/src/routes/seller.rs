//! Authorization and seller endpoints.

use serde_json::json;

use super::Req;
use crate::envelope::ApiResult;
use crate::state::State;

pub fn authorized_shops(req: &Req, s: &mut State) -> ApiResult {
    let seller = s.sellers.get(req.open_id);
    let shops: Vec<_> = seller
        .map(|x| {
            x.shops
                .iter()
                .filter_map(|id| s.shops.get(id))
                .map(|sh| sh.to_json())
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({ "shops": shops }))
}

pub fn active_shops(req: &Req, s: &mut State) -> ApiResult {
    let seller = s.sellers.get(req.open_id);
    let shops: Vec<_> = seller
        .map(|x| {
            x.shops
                .iter()
                .filter_map(|id| s.shops.get(id))
                .map(|sh| json!({ "id": sh.id, "region": sh.region }))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({ "shops": shops }))
}

pub fn permissions(req: &Req, s: &mut State) -> ApiResult {
    let scopes = s
        .apps
        .get(req.app_key)
        .map(|a| a.scopes.clone())
        .unwrap_or_default();
    Ok(json!({ "permissions": scopes }))
}
