//! Order detail (`GET /order/202309/orders?ids=…`, also the items of Search Orders), spec §4 and §5.
//!
//! Buyer data is partly masked (name/phone for platform logistics, and everything address-like while
//! `ON_HOLD`); masked or empty strings are kept as received, never filled in.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::lenient;

/// `data` of Get Order Detail.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderDetailResponse {
    pub orders: Vec<Order>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Order {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    pub status: OrderStatus,
    /// Unix seconds.
    #[serde(deserialize_with = "lenient::int")]
    pub create_time: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
    #[serde(
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub paid_time: Option<i64>,
    /// Anonymised relay address; kept as is.
    pub buyer_email: String,
    pub buyer_message: String,
    #[serde(deserialize_with = "lenient::string")]
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_address: Option<RecipientAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    pub line_items: Vec<LineItem>,
    pub packages: Vec<PackageRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_option_name: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub delivery_option_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_provider: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_provider_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// `TIKTOK` or `SELLER`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_type: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub warehouse_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_name: Option<String>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub is_on_hold_order: bool,
    #[serde(deserialize_with = "lenient::boolean")]
    pub is_cod: bool,
    #[serde(deserialize_with = "lenient::boolean")]
    pub is_sample_order: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_initiator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seller_note: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub rts_sla_time: Option<i64>,
}

/// Recipient address; every field may be masked (`*`) or empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecipientAddress {
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: String,
    pub address_detail: String,
    pub address_line1: String,
    pub address_line2: String,
    pub address_line3: String,
    pub address_line4: String,
    pub postal_code: String,
    /// ISO-3166 alpha-2 (`GB`; `UK` accepted by the mapper).
    pub region_code: String,
    pub full_address: String,
    pub district_info: Vec<DistrictInfo>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DistrictInfo {
    /// e.g. `Country`, `State`, `County`, `City`, `Post Town`.
    pub address_level_name: String,
    pub address_name: String,
    /// e.g. `L0`..`L4`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address_level: String,
}

/// Order money, decimal strings in `currency`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Payment {
    pub currency: String,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub sub_total: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_fee: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub seller_discount: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub platform_discount: Option<String>,
    /// What the buyer paid.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_amount: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub original_total_product_price: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub original_shipping_fee: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_fee_seller_discount: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_fee_platform_discount: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub tax: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_tax: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_fee_tax: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub small_order_fee: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub retail_delivery_fee: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub buyer_service_fee: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub handling_fee: Option<String>,
}

/// One order line. In 202309 every line is one unit; `quantity` is read if TikTok ever sends it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LineItem {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub sku_id: String,
    pub seller_sku: String,
    #[serde(deserialize_with = "lenient::string")]
    pub product_id: String,
    pub product_name: String,
    pub sku_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku_image: Option<String>,
    /// Unit price the buyer paid after discounts.
    #[serde(deserialize_with = "lenient::string")]
    pub sale_price: String,
    #[serde(deserialize_with = "lenient::string")]
    pub original_price: String,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub seller_discount: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub platform_discount: Option<String>,
    pub currency: String,
    pub display_status: String,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub package_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_provider_name: Option<String>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub is_gift: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PackageRef {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
}

/// Order status (202309 strings). Legacy numeric codes (pre-202309) are read too; anything else is kept
/// in [`OrderStatus::Unknown`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Unpaid,
    /// US/UK since 2023-12: ~1 h in which the buyer may cancel; address fields are empty.
    OnHold,
    AwaitingShipment,
    PartiallyShipping,
    AwaitingCollection,
    InTransit,
    Delivered,
    Completed,
    /// `CANCELLED`, or `CANCEL` as the ORDER_STATUS_CHANGE webhook spells it.
    Cancelled,
    Unknown(String),
    /// Missing in the JSON.
    #[default]
    Missing,
}

impl OrderStatus {
    /// Every known status, in life-cycle order.
    pub const KNOWN: [OrderStatus; 9] = [
        OrderStatus::Unpaid,
        OrderStatus::OnHold,
        OrderStatus::AwaitingShipment,
        OrderStatus::PartiallyShipping,
        OrderStatus::AwaitingCollection,
        OrderStatus::InTransit,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    /// The 202309 string.
    pub fn as_str(&self) -> &str {
        match self {
            OrderStatus::Unpaid => "UNPAID",
            OrderStatus::OnHold => "ON_HOLD",
            OrderStatus::AwaitingShipment => "AWAITING_SHIPMENT",
            OrderStatus::PartiallyShipping => "PARTIALLY_SHIPPING",
            OrderStatus::AwaitingCollection => "AWAITING_COLLECTION",
            OrderStatus::InTransit => "IN_TRANSIT",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Completed => "COMPLETED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Unknown(s) => s,
            OrderStatus::Missing => "",
        }
    }

    /// Parses a 202309 string (case-insensitive); `CANCEL` means `CANCELLED`.
    pub fn parse(s: &str) -> OrderStatus {
        match s.trim().to_ascii_uppercase().as_str() {
            "UNPAID" => OrderStatus::Unpaid,
            "ON_HOLD" => OrderStatus::OnHold,
            "AWAITING_SHIPMENT" => OrderStatus::AwaitingShipment,
            "PARTIALLY_SHIPPING" => OrderStatus::PartiallyShipping,
            "AWAITING_COLLECTION" => OrderStatus::AwaitingCollection,
            "IN_TRANSIT" => OrderStatus::InTransit,
            "DELIVERED" => OrderStatus::Delivered,
            "COMPLETED" => OrderStatus::Completed,
            "CANCELLED" | "CANCEL" | "CANCELED" => OrderStatus::Cancelled,
            "" => OrderStatus::Missing,
            _ => match s.trim().parse::<i64>() {
                Ok(code) => OrderStatus::from_legacy_code(code),
                Err(_) => OrderStatus::Unknown(s.to_string()),
            },
        }
    }

    /// Legacy (pre-202309) numeric code → status (spec §5). 105 = ON_HOLD is UNVERIFIED (community
    /// code only; ON_HOLD is documented as 202309-only).
    pub fn from_legacy_code(code: i64) -> OrderStatus {
        match code {
            100 => OrderStatus::Unpaid,
            105 => OrderStatus::OnHold,
            111 => OrderStatus::AwaitingShipment,
            112 => OrderStatus::AwaitingCollection,
            114 => OrderStatus::PartiallyShipping,
            121 => OrderStatus::InTransit,
            122 => OrderStatus::Delivered,
            130 => OrderStatus::Completed,
            140 => OrderStatus::Cancelled,
            other => OrderStatus::Unknown(other.to_string()),
        }
    }

    /// Status → legacy numeric code, where one exists.
    pub fn legacy_code(&self) -> Option<i64> {
        Some(match self {
            OrderStatus::Unpaid => 100,
            OrderStatus::OnHold => 105,
            OrderStatus::AwaitingShipment => 111,
            OrderStatus::AwaitingCollection => 112,
            OrderStatus::PartiallyShipping => 114,
            OrderStatus::InTransit => 121,
            OrderStatus::Delivered => 122,
            OrderStatus::Completed => 130,
            OrderStatus::Cancelled => 140,
            OrderStatus::Unknown(_) | OrderStatus::Missing => return None,
        })
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for OrderStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OrderStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(OrderStatus::parse(&lenient::string(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_reads_strings_cancel_and_legacy_codes() {
        for (input, want) in [
            (json!("AWAITING_SHIPMENT"), OrderStatus::AwaitingShipment),
            (json!("CANCEL"), OrderStatus::Cancelled),
            (json!("CANCELLED"), OrderStatus::Cancelled),
            (json!(111), OrderStatus::AwaitingShipment),
            (json!("FUTURE_STATE"), OrderStatus::Unknown("FUTURE_STATE".into())),
        ] {
            assert_eq!(serde_json::from_value::<OrderStatus>(input).unwrap(), want);
        }
        for s in OrderStatus::KNOWN {
            assert_eq!(OrderStatus::parse(s.as_str()), s);
            assert_eq!(OrderStatus::from_legacy_code(s.legacy_code().unwrap()), s);
        }
    }

    #[test]
    fn order_tolerates_numbers_nulls_and_unknown_fields() {
        let o: Order = serde_json::from_value(json!({
            "id": 576486316948490001u64, "status": "ON_HOLD", "create_time": "1700000000",
            "recipient_address": null, "line_items": [{"id": 1, "sku_id": 2, "sale_price": 9.5, "brand_new": true}],
            "is_on_hold_order": true
        }))
        .unwrap();
        assert_eq!(o.id, "576486316948490001");
        assert_eq!(o.create_time, 1_700_000_000);
        assert!(o.recipient_address.is_none());
        assert_eq!(o.line_items[0].sale_price, "9.5");
        assert!(o.is_on_hold_order);
    }
}
