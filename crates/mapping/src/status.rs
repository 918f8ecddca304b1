//! Order status tables: TikTok 202309 string ↔ legacy numeric code ↔ PlentyONE status id, and the
//! import decision. The table is documented in `crates/mapping/README.md`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
pub use tts_tiktok::model::order::OrderStatus;

/// PlentyONE default status ids used here (spec C.6).
pub mod plenty_status {
    use rust_decimal::Decimal;

    /// 1 Incomplete data.
    pub const INCOMPLETE_DATA: Decimal = Decimal::from_parts(1, 0, 0, false, 0);
    /// 3 Waiting for payment.
    pub const WAITING_FOR_PAYMENT: Decimal = Decimal::from_parts(3, 0, 0, false, 0);
    /// 5 Cleared for shipping.
    pub const CLEARED_FOR_SHIPPING: Decimal = Decimal::from_parts(5, 0, 0, false, 0);
    /// 6 Currently being shipped.
    pub const BEING_SHIPPED: Decimal = Decimal::from_parts(6, 0, 0, false, 0);
    /// 7 Outgoing items booked.
    pub const OUTGOING_ITEMS_BOOKED: Decimal = Decimal::from_parts(7, 0, 0, false, 0);
    /// 8 Cancelled.
    pub const CANCELLED: Decimal = Decimal::from_parts(8, 0, 0, false, 0);
}

/// TikTok legacy numeric code (pre-202309) of a status; 105 = ON_HOLD is UNVERIFIED.
pub fn legacy_code(status: &OrderStatus) -> Option<i64> {
    status.legacy_code()
}

/// Status of a legacy numeric code.
pub fn from_legacy_code(code: i64) -> OrderStatus {
    OrderStatus::from_legacy_code(code)
}

/// Which TikTok statuses are imported, with which PlentyONE status, and how long to wait.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusConfig {
    /// Import UNPAID orders (as "waiting for payment"). Default false: TikTok orders are prepaid and
    /// an UNPAID order may never be paid; importing it would reserve stock for nothing.
    pub import_unpaid: bool,
    /// Import orders first seen as CANCELLED. Default false (nothing to do for them).
    pub import_cancelled: bool,
    /// How long an ON_HOLD order waits after `create_time` (TikTok: about 1 h in which the buyer may
    /// cancel; the address is empty meanwhile). Default 3600 s.
    pub on_hold_window_secs: i64,
    /// Import an order still ON_HOLD after the window (with status "incomplete data", address
    /// fields empty) instead of waiting on. Default false.
    pub import_on_hold_after_window: bool,
    /// Minimum age of any order before import (peers hold orders ~60 min because buyers may still
    /// edit them). Default 0: TikTok's own ON_HOLD covers this where it exists.
    pub min_order_age_secs: i64,
    /// PlentyONE status per TikTok status (`{"AWAITING_SHIPMENT": 5.1}`); statuses not listed use
    /// [`default_plenty_status`].
    pub overrides: BTreeMap<String, Decimal>,
}

impl Default for StatusConfig {
    fn default() -> Self {
        StatusConfig {
            import_unpaid: false,
            import_cancelled: false,
            on_hold_window_secs: 3600,
            import_on_hold_after_window: false,
            min_order_age_secs: 0,
            overrides: BTreeMap::new(),
        }
    }
}

/// PlentyONE status for a TikTok status (defaults).
///
/// | TikTok | PlentyONE |
/// |---|---|
/// | UNPAID | 3 waiting for payment (only if UNPAID orders are imported) |
/// | ON_HOLD | 1 incomplete data (only if imported after the hold window) |
/// | AWAITING_SHIPMENT | 5 cleared for shipping |
/// | AWAITING_COLLECTION, PARTIALLY_SHIPPING | 6 currently being shipped |
/// | IN_TRANSIT, DELIVERED, COMPLETED | 7 outgoing items booked |
/// | CANCELLED | 8 cancelled |
pub fn default_plenty_status(status: &OrderStatus) -> Option<Decimal> {
    use plenty_status::*;
    Some(match status {
        OrderStatus::Unpaid => WAITING_FOR_PAYMENT,
        OrderStatus::OnHold => INCOMPLETE_DATA,
        OrderStatus::AwaitingShipment => CLEARED_FOR_SHIPPING,
        OrderStatus::AwaitingCollection | OrderStatus::PartiallyShipping => BEING_SHIPPED,
        OrderStatus::InTransit | OrderStatus::Delivered | OrderStatus::Completed => OUTGOING_ITEMS_BOOKED,
        OrderStatus::Cancelled => CANCELLED,
        OrderStatus::Unknown(_) | OrderStatus::Missing => return None,
    })
}

/// PlentyONE status for a TikTok status with the config's overrides applied.
pub fn plenty_status(status: &OrderStatus, config: &StatusConfig) -> Option<Decimal> {
    config
        .overrides
        .iter()
        .find(|(s, _)| OrderStatus::parse(s) == *status)
        .map(|(_, id)| *id)
        .or_else(|| default_plenty_status(status))
}

/// What TikTok should be told when a PlentyONE order reaches a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TikTokAction {
    /// 7.x outgoing items booked: ship the package(s) with the tracking number.
    Ship,
    /// 8 / 8.x cancelled: cancel the order on TikTok (seller-initiated cancellation).
    Cancel,
}

/// PlentyONE status → the TikTok action it triggers, if any. 7 ≤ s < 8 → ship; 8 ≤ s < 9 → cancel;
/// returns (9.x) and credit notes come from TikTok's return flow, not from here.
pub fn tiktok_action_for_plenty_status(status_id: Decimal) -> Option<TikTokAction> {
    let seven = plenty_status::OUTGOING_ITEMS_BOOKED;
    let eight = plenty_status::CANCELLED;
    if status_id >= seven && status_id < eight {
        Some(TikTokAction::Ship)
    } else if status_id >= eight && status_id < eight + Decimal::ONE {
        Some(TikTokAction::Cancel)
    } else {
        None
    }
}

/// Whether a TikTok order should be imported now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ImportDecision {
    Import,
    /// Look again at `until` (Unix seconds) or on the next status change.
    Wait {
        until: i64,
        reason: String,
    },
    Skip {
        reason: String,
    },
}

/// The import decision for an order with `status` created at `create_time` (Unix s), at `now`.
pub fn should_import(
    status: &OrderStatus,
    create_time: i64,
    now: i64,
    config: &StatusConfig,
) -> ImportDecision {
    let importable_from = create_time.saturating_add(config.min_order_age_secs.max(0));
    match status {
        OrderStatus::Unpaid if !config.import_unpaid => ImportDecision::Skip {
            reason: "UNPAID orders are not imported (import_unpaid is off)".into(),
        },
        OrderStatus::Cancelled if !config.import_cancelled => ImportDecision::Skip {
            reason: "CANCELLED before import".into(),
        },
        OrderStatus::OnHold => {
            let window_end = create_time
                .saturating_add(config.on_hold_window_secs.max(0))
                .max(importable_from);
            if now < window_end {
                ImportDecision::Wait {
                    until: window_end,
                    reason: "ON_HOLD: the buyer may still cancel".into(),
                }
            } else if config.import_on_hold_after_window {
                ImportDecision::Import
            } else {
                ImportDecision::Wait {
                    until: now.saturating_add(config.on_hold_window_secs.clamp(60, 3600)),
                    reason: "still ON_HOLD after the hold window; waiting for AWAITING_SHIPMENT".into(),
                }
            }
        }
        OrderStatus::Unknown(s) => ImportDecision::Skip {
            reason: format!("unknown TikTok status {s:?}"),
        },
        OrderStatus::Missing => ImportDecision::Skip {
            reason: "order has no status".into(),
        },
        _ if now < importable_from => ImportDecision::Wait {
            until: importable_from,
            reason: "younger than min_order_age_secs".into(),
        },
        _ => ImportDecision::Import,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_both_ways() {
        let c = StatusConfig::default();
        assert_eq!(
            plenty_status(&OrderStatus::AwaitingShipment, &c),
            Some(Decimal::from(5))
        );
        assert_eq!(
            plenty_status(&OrderStatus::PartiallyShipping, &c),
            Some(Decimal::from(6))
        );
        assert_eq!(plenty_status(&OrderStatus::Delivered, &c), Some(Decimal::from(7)));
        assert_eq!(plenty_status(&OrderStatus::Cancelled, &c), Some(Decimal::from(8)));
        let overridden = StatusConfig {
            overrides: BTreeMap::from([("AWAITING_SHIPMENT".to_string(), Decimal::new(51, 1))]),
            ..c
        };
        assert_eq!(
            plenty_status(&OrderStatus::AwaitingShipment, &overridden),
            Some(Decimal::new(51, 1))
        );
        assert_eq!(
            tiktok_action_for_plenty_status(Decimal::from(7)),
            Some(TikTokAction::Ship)
        );
        assert_eq!(
            tiktok_action_for_plenty_status(Decimal::new(71, 1)),
            Some(TikTokAction::Ship)
        );
        assert_eq!(
            tiktok_action_for_plenty_status(Decimal::new(81, 1)),
            Some(TikTokAction::Cancel)
        );
        assert_eq!(tiktok_action_for_plenty_status(Decimal::from(5)), None);
        assert_eq!(tiktok_action_for_plenty_status(Decimal::from(9)), None);
        assert_eq!(legacy_code(&OrderStatus::Completed), Some(130));
        assert_eq!(from_legacy_code(112), OrderStatus::AwaitingCollection);
    }

    #[test]
    fn import_decisions() {
        let c = StatusConfig::default();
        let t0 = 1_700_000_000;
        assert_eq!(
            should_import(&OrderStatus::AwaitingShipment, t0, t0, &c),
            ImportDecision::Import
        );
        assert!(matches!(
            should_import(&OrderStatus::Unpaid, t0, t0, &c),
            ImportDecision::Skip { .. }
        ));
        assert!(
            matches!(should_import(&OrderStatus::OnHold, t0, t0 + 10, &c), ImportDecision::Wait { until, .. } if until == t0 + 3600)
        );
        assert!(matches!(
            should_import(&OrderStatus::OnHold, t0, t0 + 4000, &c),
            ImportDecision::Wait { .. }
        ));
        let eager = StatusConfig {
            import_on_hold_after_window: true,
            ..c.clone()
        };
        assert_eq!(
            should_import(&OrderStatus::OnHold, t0, t0 + 4000, &eager),
            ImportDecision::Import
        );
        let aged = StatusConfig {
            min_order_age_secs: 600,
            ..c
        };
        assert!(
            matches!(should_import(&OrderStatus::AwaitingShipment, t0, t0 + 5, &aged), ImportDecision::Wait { until, .. } if until == t0 + 600)
        );
    }
}
