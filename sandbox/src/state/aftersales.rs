//! Cancellations and returns/refunds.

use serde_json::{Value, json};

use super::State;
use crate::envelope::{ApiError, codes};

const CANCEL_BASE: u64 = 4_035_000_000_000_000_000;
const RETURN_BASE: u64 = 4_036_000_000_000_000_000;

#[derive(Debug, Clone)]
pub struct Cancellation {
    pub id: String,
    pub shop_id: String,
    pub order_id: String,
    /// CANCEL (seller), BUYER_CANCEL.
    pub cancel_type: String,
    /// CANCELLATION_REQUEST_PENDING / _SUCCESS / _CANCEL / _COMPLETE.
    pub status: String,
    pub role: String,
    pub reason: String,
    pub reject_reason: Option<String>,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub struct ReturnRequest {
    pub id: String,
    pub shop_id: String,
    pub order_id: String,
    /// REFUND, RETURN_AND_REFUND, REPLACEMENT.
    pub return_type: String,
    pub status: String,
    pub reason: String,
    pub line_item_ids: Vec<String>,
    pub refund_total: String,
    pub currency: String,
    pub decisions: Vec<String>,
    pub create_time: i64,
    pub update_time: i64,
}

impl Cancellation {
    pub fn to_json(&self) -> Value {
        json!({
            "cancel_id": self.id, "order_id": self.order_id, "cancel_type": self.cancel_type,
            "cancel_status": self.status, "role": self.role, "cancel_reason": self.reason,
            "create_time": self.create_time, "update_time": self.update_time,
        })
    }
}

impl ReturnRequest {
    pub fn to_json(&self) -> Value {
        json!({
            "return_id": self.id, "order_id": self.order_id, "return_type": self.return_type,
            "return_status": self.status, "return_reason": self.reason, "role": "BUYER",
            "return_line_items": self.line_item_ids.iter().map(|id| json!({ "order_line_item_id": id })).collect::<Vec<_>>(),
            "refund_amount": { "currency": self.currency, "refund_total": self.refund_total },
            "create_time": self.create_time, "update_time": self.update_time,
        })
    }
}

impl State {
    fn emit_cancellation(&mut self, id: &str) {
        let c = &self.cancellations[id];
        let data = json!({
            "order_id": c.order_id, "cancellations_role": c.role, "cancel_status": c.status,
            "cancel_id": c.id, "create_time": c.create_time,
        });
        let shop = c.shop_id.clone();
        self.emit(&shop, 11, data);
    }

    fn emit_return(&mut self, id: &str) {
        let r = &self.returns[id];
        let data = json!({
            "order_id": r.order_id, "return_role": "BUYER", "return_type": r.return_type,
            "return_status": r.status, "return_id": r.id, "create_time": r.create_time, "update_time": r.update_time,
        });
        let shop = r.shop_id.clone();
        self.emit(&shop, 12, data);
    }

    /// Seller-initiated cancel: immediate for orders not yet shipped.
    pub fn seller_cancel(
        &mut self,
        shop_id: &str,
        order_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<Value, ApiError> {
        let o = self
            .orders
            .get(order_id)
            .filter(|o| o.shop_id == shop_id)
            .ok_or_else(|| ApiError::not_found("order", order_id))?;
        if !matches!(o.status.as_str(), "UNPAID" | "ON_HOLD" | "AWAITING_SHIPMENT") {
            return Err(ApiError::business(
                codes::INVALID_STATE,
                format!(
                    "Order {order_id} is {} and can no longer be cancelled by the seller.",
                    o.status
                ),
            ));
        }
        let id = self.next_id(CANCEL_BASE);
        self.cancellations.insert(
            id.clone(),
            Cancellation {
                id: id.clone(),
                shop_id: shop_id.into(),
                order_id: order_id.into(),
                cancel_type: "CANCEL".into(),
                status: "CANCELLATION_REQUEST_COMPLETE".into(),
                role: "SELLER".into(),
                reason: reason.into(),
                reject_reason: None,
                create_time: now,
                update_time: now,
            },
        );
        self.cancel_order(order_id, reason, "SELLER", now);
        self.emit_cancellation(&id);
        Ok(json!({ "cancel_id": id, "cancel_status": "CANCELLATION_REQUEST_COMPLETE" }))
    }

    /// Buyer asks to cancel (control API). UNPAID/ON_HOLD orders cancel at once, like on TikTok.
    pub fn buyer_request_cancellation(
        &mut self,
        order_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<Value, ApiError> {
        let o = self
            .orders
            .get(order_id)
            .ok_or_else(|| ApiError::not_found("order", order_id))?
            .clone();
        let immediate = matches!(o.status.as_str(), "UNPAID" | "ON_HOLD");
        if !immediate
            && !matches!(
                o.status.as_str(),
                "AWAITING_SHIPMENT" | "AWAITING_COLLECTION" | "PARTIALLY_SHIPPING"
            )
        {
            return Err(ApiError::business(
                codes::INVALID_STATE,
                format!("Order {order_id} is {}: cannot request cancellation.", o.status),
            ));
        }
        let id = self.next_id(CANCEL_BASE);
        let status = if immediate {
            "CANCELLATION_REQUEST_COMPLETE"
        } else {
            "CANCELLATION_REQUEST_PENDING"
        };
        self.cancellations.insert(
            id.clone(),
            Cancellation {
                id: id.clone(),
                shop_id: o.shop_id.clone(),
                order_id: order_id.into(),
                cancel_type: "BUYER_CANCEL".into(),
                status: status.into(),
                role: "BUYER".into(),
                reason: reason.into(),
                reject_reason: None,
                create_time: now,
                update_time: now,
            },
        );
        if immediate {
            self.cancel_order(order_id, reason, "BUYER", now);
        }
        self.emit_cancellation(&id);
        Ok(self.cancellations[&id].to_json())
    }

    pub fn decide_cancellation(
        &mut self,
        shop_id: &str,
        id: &str,
        approve: bool,
        reject_reason: Option<String>,
        now: i64,
    ) -> Result<Value, ApiError> {
        let c = self
            .cancellations
            .get(id)
            .filter(|c| c.shop_id == shop_id)
            .ok_or_else(|| ApiError::not_found("cancellation", id))?;
        if c.status != "CANCELLATION_REQUEST_PENDING" {
            return Err(ApiError::business(
                codes::INVALID_STATE,
                format!("Cancellation {id} is {} and cannot be decided.", c.status),
            ));
        }
        let order_id = c.order_id.clone();
        let reason = c.reason.clone();
        {
            let c = self.cancellations.get_mut(id).expect("exists");
            c.status = if approve {
                "CANCELLATION_REQUEST_COMPLETE"
            } else {
                "CANCELLATION_REQUEST_CANCEL"
            }
            .into();
            c.reject_reason = reject_reason;
            c.update_time = now;
        }
        if approve {
            self.cancel_order(&order_id, &reason, "BUYER", now);
        }
        self.emit_cancellation(id);
        Ok(json!({}))
    }

    pub fn buyer_request_return(
        &mut self,
        order_id: &str,
        return_type: &str,
        reason: &str,
        now: i64,
    ) -> Result<Value, ApiError> {
        let o = self
            .orders
            .get(order_id)
            .ok_or_else(|| ApiError::not_found("order", order_id))?
            .clone();
        if !matches!(o.status.as_str(), "DELIVERED" | "COMPLETED" | "IN_TRANSIT") {
            return Err(ApiError::business(
                codes::INVALID_STATE,
                format!("Order {order_id} is {}: no return possible.", o.status),
            ));
        }
        if !matches!(return_type, "REFUND" | "RETURN_AND_REFUND" | "REPLACEMENT") {
            return Err(ApiError::bad_request(format!(
                "unknown return_type {return_type}"
            )));
        }
        let total: i64 = o
            .line_items
            .iter()
            .filter(|l| !l.cancelled)
            .map(|l| super::orders::cents(&l.sale_price))
            .sum();
        let id = self.next_id(RETURN_BASE);
        self.returns.insert(
            id.clone(),
            ReturnRequest {
                id: id.clone(),
                shop_id: o.shop_id.clone(),
                order_id: order_id.into(),
                return_type: return_type.into(),
                status: "RETURN_OR_REFUND_REQUEST_PENDING".into(),
                reason: reason.into(),
                line_item_ids: o.line_items.iter().map(|l| l.id.clone()).collect(),
                refund_total: super::orders::money(total),
                currency: o.currency.clone(),
                decisions: Vec::new(),
                create_time: now,
                update_time: now,
            },
        );
        self.emit_return(&id);
        Ok(self.returns[&id].to_json())
    }

    pub fn buyer_ship_return(&mut self, id: &str, now: i64) -> Result<Value, ApiError> {
        let r = self
            .returns
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("return", id))?;
        if r.status != "AWAITING_BUYER_SHIP" {
            return Err(ApiError::business(
                codes::INVALID_STATE,
                format!("Return {id} is {}, not AWAITING_BUYER_SHIP.", r.status),
            ));
        }
        r.status = "BUYER_SHIPPED_ITEM".into();
        r.update_time = now;
        self.emit_return(id);
        Ok(self.returns[id].to_json())
    }

    /// Seller decision on a return; decisions follow the 202309 enum (spec §4).
    pub fn decide_return(
        &mut self,
        shop_id: &str,
        id: &str,
        approve: bool,
        decision: &str,
        now: i64,
    ) -> Result<Value, ApiError> {
        let r = self
            .returns
            .get(id)
            .filter(|r| r.shop_id == shop_id)
            .ok_or_else(|| ApiError::not_found("return", id))?
            .clone();
        let next = match (approve, r.status.as_str(), decision) {
            (true, "RETURN_OR_REFUND_REQUEST_PENDING", "APPROVE_REFUND") if r.return_type == "REFUND" => {
                "RETURN_OR_REFUND_REQUEST_COMPLETE"
            }
            (true, "RETURN_OR_REFUND_REQUEST_PENDING", "APPROVE_RETURN") => "AWAITING_BUYER_SHIP",
            (true, "RETURN_OR_REFUND_REQUEST_PENDING", "APPROVE_REPLACEMENT")
                if r.return_type == "REPLACEMENT" =>
            {
                "REPLACEMENT_REQUEST_COMPLETE"
            }
            (true, "BUYER_SHIPPED_ITEM", "APPROVE_RECEIVED_PACKAGE") => "RETURN_OR_REFUND_REQUEST_COMPLETE",
            (
                false,
                "RETURN_OR_REFUND_REQUEST_PENDING",
                "REJECT_REFUND" | "REJECT_RETURN" | "REJECT_REPLACEMENT",
            ) => "REFUND_OR_RETURN_REQUEST_REJECT",
            (false, "BUYER_SHIPPED_ITEM", "REJECT_RECEIVED_PACKAGE") => "REJECT_RECEIVE_PACKAGE",
            _ => {
                return Err(ApiError::business(
                    codes::INVALID_STATE,
                    format!(
                        "Decision {decision:?} is not possible for return {id} ({}, {}).",
                        r.return_type, r.status
                    ),
                ));
            }
        };
        let rr = self.returns.get_mut(id).expect("exists");
        rr.status = next.into();
        rr.decisions.push(decision.into());
        rr.update_time = now;
        self.emit_return(id);
        Ok(json!({}))
    }
}
