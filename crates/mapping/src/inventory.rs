//! PlentyONE net stock per warehouse → TikTok warehouse quantities.
//!
//! quantity(TikTok warehouse) = clamp(⌊ Σ net stock of its PlentyONE warehouses − reserved
//! − buffer ⌋, 0, 99,999), where buffer = absolute units + ⌈percent of the available stock⌉.
//! Negative net stock (oversold warehouse) is summed as is: it lowers what its siblings offer, so
//! TikTok is never promised stock that is already owed.

use std::collections::HashMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use tts_plenty::model::{Variation, VariationStock};
use tts_tiktok::model::product::Inventory;

use crate::region::MAX_QUANTITY;

/// One PlentyONE warehouse feeding one TikTok warehouse. Several PlentyONE warehouses may feed the
/// same TikTok warehouse; a PlentyONE warehouse should feed at most one (else its stock is offered
/// twice — [`WarehouseMapping::doubly_mapped`] finds those).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseLink {
    pub plenty_warehouse_id: i64,
    pub tiktok_warehouse_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WarehouseMapping {
    pub links: Vec<WarehouseLink>,
}

impl WarehouseMapping {
    pub fn new(pairs: impl IntoIterator<Item = (i64, impl Into<String>)>) -> Self {
        WarehouseMapping {
            links: pairs
                .into_iter()
                .map(|(p, t)| WarehouseLink {
                    plenty_warehouse_id: p,
                    tiktok_warehouse_id: t.into(),
                })
                .collect(),
        }
    }

    /// TikTok warehouses in first-mentioned order, without duplicates.
    pub fn tiktok_warehouses(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for link in &self.links {
            if !out.contains(&link.tiktok_warehouse_id.as_str()) {
                out.push(&link.tiktok_warehouse_id);
            }
        }
        out
    }

    /// PlentyONE warehouses linked to more than one TikTok warehouse (a configuration mistake).
    pub fn doubly_mapped(&self) -> Vec<i64> {
        let mut seen: HashMap<i64, &str> = HashMap::new();
        let mut out = Vec::new();
        for link in &self.links {
            match seen.get(&link.plenty_warehouse_id) {
                Some(t) if *t != link.tiktok_warehouse_id && !out.contains(&link.plenty_warehouse_id) => {
                    out.push(link.plenty_warehouse_id)
                }
                Some(_) => {}
                None => {
                    seen.insert(link.plenty_warehouse_id, &link.tiktok_warehouse_id);
                }
            }
        }
        out
    }
}

/// Safety buffer held back from TikTok, per TikTok warehouse.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StockBuffer {
    /// Units always held back.
    pub absolute: Decimal,
    /// Percent (0–100) of the available stock held back, rounded up to whole units.
    pub percent: Decimal,
}

impl StockBuffer {
    pub fn none() -> Self {
        StockBuffer::default()
    }

    /// Units held back from `available` stock.
    pub fn units(&self, available: Decimal) -> Decimal {
        let percent = self.percent.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
        let by_percent = if available > Decimal::ZERO {
            (available / Decimal::ONE_HUNDRED).saturating_mul(percent).ceil()
        } else {
            Decimal::ZERO
        };
        self.absolute.max(Decimal::ZERO).saturating_add(by_percent)
    }
}

/// Inventory settings of a shop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InventoryConfig {
    pub warehouses: WarehouseMapping,
    pub buffer: StockBuffer,
    /// Quantity offered for variations whose stock PlentyONE does not manage (`stockLimitation` 2).
    /// `None` = offer the computed stock like any other variation.
    pub unmanaged_stock_quantity: Option<u32>,
    /// Offer 0 when fewer units than this are left after the buffer (the last units stay for other
    /// channels). 0 = off.
    pub zero_below: u32,
    /// Never offer more than this per TikTok warehouse (TikTok's own bound, 99,999, always applies).
    pub max_quantity: Option<u32>,
}

/// Clamps any decimal quantity to TikTok's range, rounding down (never promise a fraction).
pub fn clamp_quantity(units: Decimal) -> u32 {
    if units <= Decimal::ZERO {
        return 0;
    }
    units
        .floor()
        .min(Decimal::from(MAX_QUANTITY))
        .to_u32()
        .unwrap_or(0)
}

/// Quantities for every TikTok warehouse of the mapping (TikTok wants all of a SKU's warehouses in
/// one update). `reserved` = units per TikTok warehouse sold in orders already imported into PlentyONE
/// but not yet booked out there (PlentyONE's net stock does not reflect them yet).
pub fn tiktok_inventory(
    stock: &[VariationStock],
    config: &InventoryConfig,
    reserved: &HashMap<String, Decimal>,
) -> Vec<Inventory> {
    config
        .warehouses
        .tiktok_warehouses()
        .into_iter()
        .map(|tiktok_id| {
            let mut plenty_ids: Vec<i64> = Vec::new();
            for link in config
                .warehouses
                .links
                .iter()
                .filter(|l| l.tiktok_warehouse_id == tiktok_id)
            {
                if !plenty_ids.contains(&link.plenty_warehouse_id) {
                    plenty_ids.push(link.plenty_warehouse_id);
                }
            }
            // Saturating arithmetic: absurd stock values must not overflow the decimal and panic.
            let net = stock
                .iter()
                .filter(|s| plenty_ids.contains(&s.warehouse_id))
                .fold(Decimal::ZERO, |sum, s| sum.saturating_add(s.net_stock));
            let reserved = reserved
                .get(tiktok_id)
                .copied()
                .unwrap_or_default()
                .max(Decimal::ZERO);
            let available = net.saturating_sub(reserved);
            let mut quantity = clamp_quantity(available.saturating_sub(config.buffer.units(available)));
            if quantity < config.zero_below {
                quantity = 0;
            }
            if let Some(max) = config.max_quantity {
                quantity = quantity.min(max);
            }
            Inventory {
                warehouse_id: tiktok_id.to_string(),
                quantity,
            }
        })
        .collect()
}

/// [`tiktok_inventory`] for a variation, honouring "stock not managed".
pub fn variation_inventory(
    variation: &Variation,
    config: &InventoryConfig,
    reserved: &HashMap<String, Decimal>,
) -> Vec<Inventory> {
    match (variation.stock_limitation, config.unmanaged_stock_quantity) {
        (Some(2), Some(fixed)) => config
            .warehouses
            .tiktok_warehouses()
            .into_iter()
            .map(|id| Inventory {
                warehouse_id: id.to_string(),
                quantity: fixed.min(MAX_QUANTITY),
            })
            .collect(),
        _ => tiktok_inventory(&variation.stock, config, reserved),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stock(warehouse_id: i64, net: i64) -> VariationStock {
        VariationStock {
            warehouse_id,
            net_stock: Decimal::from(net),
            ..Default::default()
        }
    }

    #[test]
    fn sums_mapped_warehouses_subtracts_reserved_and_buffer() {
        let config = InventoryConfig {
            warehouses: WarehouseMapping::new([(1, "TT-A"), (2, "TT-A"), (3, "TT-B")]),
            buffer: StockBuffer {
                absolute: Decimal::from(2),
                percent: Decimal::from(10),
            },
            ..Default::default()
        };
        let reserved = HashMap::from([("TT-A".to_string(), Decimal::from(3))]);
        let inv = tiktok_inventory(
            &[stock(1, 10), stock(2, 13), stock(3, 1), stock(9, 500)],
            &config,
            &reserved,
        );
        // TT-A: 23 - 3 = 20 available, buffer 2 + ceil(2.0) = 4 → 16; TT-B: 1 - (2 + 1) < 0 → 0.
        assert_eq!(
            inv,
            vec![
                Inventory {
                    warehouse_id: "TT-A".into(),
                    quantity: 16
                },
                Inventory {
                    warehouse_id: "TT-B".into(),
                    quantity: 0
                }
            ]
        );
    }

    #[test]
    fn threshold_and_cap() {
        let config = InventoryConfig {
            warehouses: WarehouseMapping::new([(1, "A")]),
            zero_below: 3,
            max_quantity: Some(50),
            ..Default::default()
        };
        let q = |net| tiktok_inventory(&[stock(1, net)], &config, &HashMap::new())[0].quantity;
        assert_eq!((q(2), q(3), q(40), q(500)), (0, 3, 40, 50));
    }

    #[test]
    fn clamps_to_tiktok_bounds_and_floors_fractions() {
        assert_eq!(clamp_quantity(Decimal::from(250_000)), 99_999);
        assert_eq!(clamp_quantity(Decimal::new(35, 1)), 3);
        assert_eq!(clamp_quantity(Decimal::from(-4)), 0);
    }

    #[test]
    fn finds_doubly_mapped_warehouses() {
        let m = WarehouseMapping::new([(1, "A"), (1, "B"), (2, "A"), (2, "A")]);
        assert_eq!(m.doubly_mapped(), vec![1]);
        assert_eq!(m.tiktok_warehouses(), vec!["A", "B"]);
    }
}
