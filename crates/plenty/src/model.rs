//! Typed plentymarkets REST models (spec C.4, C.5; docs-raw `Item.adoc`, `Order.adoc`, `Account.adoc`).
//!
//! Lenient by design: every field has a default, unknown fields are ignored, ids are accepted as JSON
//! numbers or strings, amounts are [`Decimal`] (read from numbers or strings, written as exact JSON
//! numbers). Field names are camelCase as on the wire.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Catalogue (read side): `GET /rest/items/variations?with=...` and `/rest/pim/variations`
// ---------------------------------------------------------------------------------------------

/// One variation with the relations the TikTok mapping needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Variation {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    #[serde(deserialize_with = "id::de")]
    pub item_id: i64,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_main: bool,
    #[serde(deserialize_with = "id::de_opt")]
    pub main_variation_id: Option<i64>,
    pub is_active: Option<bool>,
    /// Variation number (free text, unique per system).
    pub number: Option<String>,
    pub model: Option<String>,
    pub external_id: Option<String>,
    /// Variation name (optional, often empty; the item text `name1` is the market name).
    pub name: Option<String>,
    pub position: Option<i64>,
    #[serde(deserialize_with = "id::de_opt")]
    pub main_warehouse_id: Option<i64>,
    /// 0 none, 1 net stock, 2 do not manage.
    pub stock_limitation: Option<i64>,
    pub weight_g: Option<Decimal>,
    pub weight_net_g: Option<Decimal>,
    #[serde(rename = "widthMM")]
    pub width_mm: Option<Decimal>,
    #[serde(rename = "lengthMM")]
    pub length_mm: Option<Decimal>,
    #[serde(rename = "heightMM")]
    pub height_mm: Option<Decimal>,
    #[serde(deserialize_with = "id::de_opt")]
    pub vat_id: Option<i64>,
    pub variation_sales_prices: Vec<VariationSalesPrice>,
    pub variation_barcodes: Vec<VariationBarcode>,
    /// Images linked to this variation.
    pub images: Vec<ItemImage>,
    /// All images of the item (`with=itemImages`).
    pub item_images: Vec<ItemImage>,
    pub variation_attribute_values: Vec<VariationAttributeValue>,
    pub variation_categories: Vec<VariationCategory>,
    pub variation_skus: Vec<VariationSku>,
    /// Stock per warehouse (`with=stock`).
    pub stock: Vec<VariationStock>,
    /// Item texts per language (`with=item.texts`, or `itemTexts` / `variationTexts`).
    #[serde(alias = "itemTexts", alias = "variationTexts")]
    pub texts: Vec<ItemText>,
    pub item: Option<Item>,
}

/// The item a variation belongs to (`with=item`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Item {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    #[serde(deserialize_with = "id::de_opt")]
    pub main_variation_id: Option<i64>,
    #[serde(deserialize_with = "id::de_opt")]
    pub manufacturer_id: Option<i64>,
    #[serde(alias = "itemTexts")]
    pub texts: Vec<ItemText>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VariationSalesPrice {
    #[serde(deserialize_with = "id::de")]
    pub variation_id: i64,
    #[serde(deserialize_with = "id::de")]
    pub sales_price_id: i64,
    #[serde(deserialize_with = "decimal_number::deserialize")]
    pub price: Decimal,
    pub lowest_price: Option<Decimal>,
    pub updated_at: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VariationBarcode {
    #[serde(deserialize_with = "id::de")]
    pub variation_id: i64,
    #[serde(deserialize_with = "id::de")]
    pub barcode_id: i64,
    pub code: String,
    /// Present with `with=variationBarcodes.barcode`: the barcode type definition.
    pub barcode: Option<BarcodeType>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BarcodeType {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    pub name: Option<String>,
    /// e.g. `GTIN_13`, `GTIN_14`, `UPC`, `ISBN`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ItemImage {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    #[serde(deserialize_with = "id::de")]
    pub item_id: i64,
    #[serde(deserialize_with = "id::de")]
    pub position: i64,
    pub url: Option<String>,
    pub url_middle: Option<String>,
    pub url_preview: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub md5_checksum: Option<String>,
    pub names: Vec<ImageName>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ImageName {
    pub lang: String,
    pub name: Option<String>,
    pub alternate: Option<String>,
}

/// A variation's value of one attribute (e.g. Farbe = Weiß).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VariationAttributeValue {
    #[serde(deserialize_with = "id::de")]
    pub attribute_id: i64,
    #[serde(deserialize_with = "id::de")]
    pub value_id: i64,
    pub attribute: Option<Attribute>,
    pub attribute_value: Option<AttributeValue>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attribute {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    pub backend_name: String,
    pub position: Option<i64>,
    #[serde(alias = "attributeNames")]
    pub names: Vec<AttributeName>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AttributeName {
    pub lang: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AttributeValue {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    #[serde(deserialize_with = "id::de")]
    pub attribute_id: i64,
    pub backend_name: String,
    pub position: Option<i64>,
    #[serde(alias = "valueNames")]
    pub names: Vec<AttributeValueName>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AttributeValueName {
    pub lang: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VariationCategory {
    #[serde(deserialize_with = "id::de")]
    pub variation_id: i64,
    #[serde(deserialize_with = "id::de")]
    pub category_id: i64,
    pub position: Option<i64>,
    pub is_neckermann_primary: Option<bool>,
}

/// Marketplace SKU of a variation (`marketId` = referrer id).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VariationSku {
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(deserialize_with = "id::de")]
    pub variation_id: i64,
    /// The marketplace's referrer id (e.g. 143.01).
    #[serde(with = "decimal_number")]
    pub market_id: Decimal,
    #[serde(deserialize_with = "id::de")]
    pub account_id: i64,
    pub sku: String,
    pub parent_sku: Option<String>,
    pub initial_sku: Option<String>,
    /// INACTIVE, ERROR, SENT, ACTIVE.
    pub status: Option<String>,
    pub additional_information: Option<String>,
}

/// Stock of a variation in one warehouse (`VariationStock`; `stockNet` spelling of the stock-management
/// routes is accepted too).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VariationStock {
    #[serde(deserialize_with = "id::de")]
    pub warehouse_id: i64,
    #[serde(deserialize_with = "id::de_opt")]
    pub variation_id: Option<i64>,
    #[serde(alias = "stockPhysical")]
    #[serde(deserialize_with = "decimal_number::deserialize")]
    pub physical_stock: Decimal,
    #[serde(deserialize_with = "decimal_number::deserialize")]
    pub reserved_stock: Decimal,
    #[serde(alias = "stockNet")]
    #[serde(deserialize_with = "decimal_number::deserialize")]
    pub net_stock: Decimal,
    pub reserved_listing: Option<Decimal>,
    pub reserved_bundles: Option<Decimal>,
    pub updated_at: Option<String>,
}

/// Item (or variation) texts of one language.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ItemText {
    pub lang: String,
    /// Default name used for markets (≤ 240 chars).
    pub name1: Option<String>,
    pub name2: Option<String>,
    pub name3: Option<String>,
    pub short_description: Option<String>,
    /// HTML.
    pub description: Option<String>,
    pub technical_data: Option<String>,
    pub meta_description: Option<String>,
    pub keywords: Option<String>,
    pub url_path: Option<String>,
}

/// One page of a paginated plentymarkets list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Page<T> {
    #[serde(deserialize_with = "id::de")]
    pub page: i64,
    #[serde(deserialize_with = "id::de")]
    pub totals_count: i64,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_last_page: bool,
    pub last_page_number: Option<i64>,
    pub entries: Vec<T>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            page: 1,
            totals_count: 0,
            is_last_page: true,
            last_page_number: None,
            entries: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Orders (write side): `POST /rest/orders`
// ---------------------------------------------------------------------------------------------

/// Order types (`typeId` of an order).
pub mod order_type {
    pub const SALES_ORDER: i64 = 1;
    pub const RETURN: i64 = 3;
}

/// Order item types (`orderItems[].typeId`).
pub mod order_item_type {
    pub const VARIATION: i64 = 1;
    pub const PROMOTIONAL_COUPON: i64 = 4;
    pub const SHIPPING_COSTS: i64 = 6;
    pub const UNASSIGNED_VARIATION: i64 = 9;
}

/// Order property types (`properties[].typeId`), spec C.5.
pub mod order_property_type {
    pub const WAREHOUSE: i64 = 1;
    pub const SHIPPING_PROFILE: i64 = 2;
    pub const PAYMENT_METHOD: i64 = 3;
    pub const PAYMENT_STATUS: i64 = 4;
    pub const DOCUMENT_LANGUAGE: i64 = 6;
    pub const EXTERNAL_ORDER_ID: i64 = 7;
    pub const EXTERNAL_TOKEN_ID: i64 = 16;
    pub const EXTERNAL_ITEM_ID: i64 = 17;
    pub const COUPON_CODE: i64 = 18;
    pub const PAYMENT_TRANSACTION_ID: i64 = 45;
}

/// Address relation types (`addressRelations[].typeId`).
pub mod address_relation_type {
    pub const BILLING: i64 = 1;
    pub const DELIVERY: i64 = 2;
}

/// Address option types (`Account.adoc` AddressOptionType).
pub mod address_option_type {
    pub const VAT_NUMBER: i64 = 1;
    pub const EXTERNAL_ADDRESS_ID: i64 = 2;
    pub const TELEPHONE: i64 = 4;
    pub const EMAIL: i64 = 5;
    pub const POST_NUMBER: i64 = 6;
    pub const EXTERNAL_CUSTOMER_ID: i64 = 13;
}

/// Body of `POST /rest/orders`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderCreate {
    pub type_id: i64,
    pub plenty_id: i64,
    /// Float status id, e.g. 5 or 5.1 (spec C.6).
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub status_id: Option<Decimal>,
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<i64>,
    /// Order referrer (sub-referrers like 104.01). Also sent on every item (spec C.5).
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub referrer_id: Option<Decimal>,
    /// ISO currency of the order (the Etsy plugin sets it on the order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_status: Option<String>,
    pub order_items: Vec<OrderItem>,
    pub properties: Vec<Property>,
    pub address_relations: Vec<AddressRelation>,
    pub relations: Vec<OrderRelation>,
}

impl OrderCreate {
    /// Value of the first order property of `type_id`.
    pub fn property(&self, type_id: i64) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.type_id == type_id)
            .map(|p| p.value.as_str())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderItem {
    pub type_id: i64,
    /// 0 for items without a variation (shipping costs, coupons, unassigned variations).
    #[serde(deserialize_with = "id::de")]
    pub item_variation_id: i64,
    #[serde(with = "decimal_number")]
    pub quantity: Decimal,
    pub order_item_name: String,
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub referrer_id: Option<Decimal>,
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub country_vat_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_field: Option<i64>,
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<Decimal>,
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub shipping_profile_id: Option<i64>,
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<i64>,
    pub amounts: Vec<OrderItemAmount>,
    pub properties: Vec<Property>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderItemAmount {
    pub currency: String,
    /// Gross unit price in `currency`.
    #[serde(with = "decimal_number")]
    pub price_original_gross: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_system_currency: Option<bool>,
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub exchange_rate: Option<Decimal>,
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub surcharge: Option<Decimal>,
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub discount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_percentage: Option<bool>,
}

/// `{typeId, value}` property of an order or an order item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Property {
    pub type_id: i64,
    pub value: String,
}

impl Property {
    pub fn new(type_id: i64, value: impl Into<String>) -> Self {
        Property {
            type_id,
            value: value.into(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddressRelation {
    pub type_id: i64,
    #[serde(deserialize_with = "id::de")]
    pub address_id: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderRelation {
    /// `contact`, `account` or `warehouse`.
    pub reference_type: String,
    #[serde(deserialize_with = "id::de")]
    pub reference_id: i64,
    /// `receiver` or `sender`.
    pub relation: String,
}

// ---------------------------------------------------------------------------------------------
// Accounts: contacts and addresses
// ---------------------------------------------------------------------------------------------

/// An address (`POST /rest/accounts/contacts/{id}/addresses`). `name1` company, `name2` first name,
/// `name3` last name, `address1` street, `address2` house number, `address3` additional line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Address {
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub name1: String,
    pub name2: String,
    pub name3: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name4: String,
    pub address1: String,
    pub address2: String,
    pub address3: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address4: String,
    pub postal_code: String,
    pub town: String,
    #[serde(deserialize_with = "id::de_opt")]
    pub country_id: Option<i64>,
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub state_id: Option<i64>,
    pub options: Vec<AddressOption>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddressOption {
    pub type_id: i64,
    pub value: String,
}

/// A contact (`POST /rest/accounts/contacts`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Contact {
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// 1 = customer.
    pub type_id: i64,
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub referrer_id: Option<Decimal>,
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub plenty_id: Option<i64>,
    /// The marketplace's buyer id.
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    pub options: Vec<ContactOption>,
}

/// Contact option: `typeId` 2 / `subTypeId` 4 = private e-mail (as the official Etsy plugin writes it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContactOption {
    pub type_id: i64,
    pub sub_type_id: i64,
    pub value: String,
    pub priority: i64,
}

pub mod contact_option {
    pub const TYPE_EMAIL: i64 = 2;
    pub const SUB_TYPE_PRIVATE: i64 = 4;
}

// ---------------------------------------------------------------------------------------------
// Serde helpers
// ---------------------------------------------------------------------------------------------

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    // plentymarkets answers booleans as true/false, 0/1 or "0"/"1" depending on the route.
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::Number(n) => n.as_i64().unwrap_or(0) != 0,
        serde_json::Value::String(s) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    })
}

/// Integer ids that may arrive as numbers or numeric strings.
pub mod id {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Int(i64),
        Float(f64),
        Str(String),
    }

    fn convert<E: Error>(v: Option<NumOrStr>) -> Result<Option<i64>, E> {
        match v {
            None => Ok(None),
            Some(NumOrStr::Int(i)) => Ok(Some(i)),
            Some(NumOrStr::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
            Some(NumOrStr::Float(f)) => Err(E::custom(format!("expected an integer id, got {f}"))),
            Some(NumOrStr::Str(s)) if s.trim().is_empty() => Ok(None),
            Some(NumOrStr::Str(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| E::custom(format!("expected an integer id, got {s:?}"))),
        }
    }

    pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Ok(convert(Option::<NumOrStr>::deserialize(d)?)?.unwrap_or(0))
    }

    pub fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        convert(Option::<NumOrStr>::deserialize(d)?)
    }
}

/// Writes a [`Decimal`] as an exact JSON number (its decimal text, never through `f64`); reads numbers
/// and numeric strings.
pub mod decimal_number {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let text = value.normalize().to_string();
        // A raw JSON number keeps every digit; `Decimal`'s text is always a valid JSON number.
        let raw = serde_json::value::RawValue::from_string(text).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        Ok(Option::<Decimal>::deserialize(d)?.unwrap_or_default())
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            Option::<Decimal>::deserialize(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_in_read_models_become_defaults() {
        let v: Variation = serde_json::from_value(json!({
            "id": 1, "itemId": 2, "isMain": null, "position": null,
            "variationSalesPrices": [{"variationId": 1, "salesPriceId": 1, "price": null}],
            "itemImages": [{"id": 5, "position": null, "url": null}],
            "stock": [{"warehouseId": 1, "netStock": null, "physicalStock": "7", "reservedStock": null}]
        }))
        .unwrap();
        assert_eq!(v.variation_sales_prices[0].price, Decimal::ZERO);
        assert_eq!(v.item_images[0].position, 0);
        assert_eq!(v.stock[0].physical_stock, Decimal::from(7));
    }

    #[test]
    fn variation_reads_numbers_strings_and_unknown_fields() {
        let v: Variation = serde_json::from_value(json!({
            "id": "1001", "itemId": 100, "isMain": 1, "number": "SHIRT-W-M", "weightG": 250,
            "widthMM": "300", "somethingNew": {"x": 1},
            "variationSalesPrices": [{"variationId": 1001, "salesPriceId": 1, "price": "19.99"}],
            "stock": [{"warehouseId": 1, "stockNet": 3.5, "physicalStock": 4}]
        }))
        .unwrap();
        assert_eq!(v.id, 1001);
        assert!(v.is_main);
        assert_eq!(v.weight_g, Some(Decimal::new(250, 0)));
        assert_eq!(v.width_mm, Some(Decimal::new(300, 0)));
        assert_eq!(v.variation_sales_prices[0].price, Decimal::new(1999, 2));
        assert_eq!(v.stock[0].net_stock, Decimal::new(35, 1));
    }

    #[test]
    fn reads_a_paginated_variation_page_with_relations() {
        let page: Page<Variation> = serde_json::from_value(json!({
            "page": 2, "totalsCount": 251, "isLastPage": false, "lastPageNumber": 6, "firstOnPage": 51,
            "entries": [{
                "id": 1001, "itemId": 4711, "isMain": true, "number": "BIO-TS-W-M",
                "variationAttributeValues": [{
                    "attributeId": 2, "valueId": 21,
                    "attribute": {"id": 2, "backendName": "Groesse", "position": 2,
                                  "attributeNames": [{"attributeId": 2, "lang": "de", "name": "Größe"}]},
                    "attributeValue": {"id": 21, "attributeId": 2, "backendName": "M",
                                       "valueNames": [{"lang": "de", "valueId": 21, "name": "M"}]}
                }],
                "variationBarcodes": [{"variationId": 1001, "barcodeId": 1, "code": "4006381333931"}],
                "item": {"id": 4711, "texts": [{"lang": "de", "name1": "Bio-T-Shirt Weiß"}]}
            }]
        }))
        .unwrap();
        assert_eq!((page.page, page.totals_count, page.is_last_page), (2, 251, false));
        let v = &page.entries[0];
        let attribute = v.variation_attribute_values[0].attribute.as_ref().unwrap();
        assert_eq!(attribute.names[0].name, "Größe");
        assert_eq!(
            v.item.as_ref().unwrap().texts[0].name1.as_deref(),
            Some("Bio-T-Shirt Weiß")
        );
    }

    #[test]
    fn order_amounts_are_written_as_exact_json_numbers() {
        let item = OrderItem {
            type_id: 1,
            item_variation_id: 5,
            quantity: Decimal::ONE,
            order_item_name: "Größe".into(),
            amounts: vec![OrderItemAmount {
                currency: "EUR".into(),
                price_original_gross: "12345678901234567.89".parse().unwrap(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = serde_json::to_string(&item).unwrap();
        assert!(
            text.contains(r#""priceOriginalGross":12345678901234567.89"#),
            "{text}"
        );
        assert!(text.contains(r#""quantity":1"#), "{text}");
    }
}
