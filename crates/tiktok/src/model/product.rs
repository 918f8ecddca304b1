//! Product models (spec §4 "Products", §8): the body of Create Product (`POST /product/202309/products`)
//! and Edit Product (`PUT /product/202309/products/{id}`, full replace), Partial Edit, the create
//! response, and the category attributes response.

use serde::{Deserialize, Serialize};

use super::lenient;

/// Body of Create Product and Edit Product (PUT replaces everything sent; `price`/`inventory` are kept
/// when omitted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductRequest {
    pub title: String,
    /// HTML, ≤ 10,000 chars.
    pub description: String,
    /// Leaf category id.
    #[serde(deserialize_with = "lenient::string")]
    pub category_id: String,
    /// `v1` (3-level) or `v2` (7-level; required for US and SEA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_version: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub brand_id: Option<String>,
    /// ≤ 9 images uploaded with `use_case=MAIN_IMAGE`.
    pub main_images: Vec<ImageRef>,
    pub skus: Vec<Sku>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_weight: Option<PackageWeight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_dimensions: Option<PackageDimensions>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub product_attributes: Vec<ProductAttribute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certifications: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_chart: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_cod_allowed: Option<bool>,
    #[serde(
        deserialize_with = "lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub delivery_option_ids: Vec<String>,
    #[serde(
        deserialize_with = "lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub manufacturer_ids: Vec<String>,
    #[serde(
        deserialize_with = "lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub responsible_person_ids: Vec<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_template_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_order_quantity: Option<u32>,
    /// Our own product key (PlentyONE item id).
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_product_id: Option<String>,
    /// ≤ 128 chars; a retried create with the same key does not create a second product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub save_mode: Option<SaveMode>,
}

/// Body of Partial Edit (`POST /product/202309/products/{id}/partial_edit`): every top-level property
/// is optional and replaces that property as a whole. It cannot change the category (SDK
/// `PartialEditProductRequestBody` has no `category_id`): that takes a full Edit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductPartialEdit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_images: Option<Vec<ImageRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skus: Option<Vec<Sku>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_weight: Option<PackageWeight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_dimensions: Option<PackageDimensions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_attributes: Option<Vec<ProductAttribute>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_product_id: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SaveMode {
    AsDraft,
    #[default]
    Listing,
}

/// `{uri}` of an uploaded image.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageRef {
    pub uri: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sku {
    /// TikTok's SKU id: only on edit, to keep an existing SKU.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// 1–50 chars, no spaces, unique in the product.
    pub seller_sku: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_price: Option<ListPrice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inventory: Vec<Inventory>,
    /// ≤ 3, the same attribute set on every SKU; empty for a single-SKU product.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sales_attributes: Vec<SalesAttribute>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_sku_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier_code: Option<IdentifierCode>,
}

/// Money as a decimal string in `currency`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Price {
    #[serde(deserialize_with = "lenient::string")]
    pub amount: String,
    pub currency: String,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub sale_price: Option<String>,
}

/// A SKU's list (strike-through) price: `{amount, currency}`, no `sale_price` (SDK
/// `CreateProductRequestBodySkusListPrice`, the same in Edit, Partial Edit and Update Price).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListPrice {
    #[serde(deserialize_with = "lenient::string")]
    pub amount: String,
    pub currency: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    #[serde(deserialize_with = "lenient::string")]
    pub warehouse_id: String,
    /// 0..=99,999 (create wants ≥ 1).
    #[serde(deserialize_with = "lenient::count")]
    pub quantity: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SalesAttribute {
    /// TikTok's attribute id (built-in sales attribute); else `name` creates a custom one.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// ≤ 20 chars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub value_id: Option<String>,
    /// ≤ 50 chars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku_img: Option<ImageRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supplementary_sku_images: Vec<ImageRef>,
}

/// GTIN / EAN / UPC / ISBN of a SKU.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentifierCode {
    pub code: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `{value, unit}`; KILOGRAM ≤ 3 decimals, GRAM integer, POUND ≤ 2 decimals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PackageWeight {
    #[serde(deserialize_with = "lenient::string")]
    pub value: String,
    pub unit: String,
}

/// Positive whole numbers as strings; CENTIMETER or INCH.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PackageDimensions {
    #[serde(deserialize_with = "lenient::string")]
    pub length: String,
    #[serde(deserialize_with = "lenient::string")]
    pub width: String,
    #[serde(deserialize_with = "lenient::string")]
    pub height: String,
    pub unit: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductAttribute {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    pub values: Vec<ProductAttributeValue>,
}

/// `id` of a predefined value, or `name` (≤ 2000 chars) for a custom one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductAttributeValue {
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

// ------------------------------------------------------------------------------------------------
// Responses
// ------------------------------------------------------------------------------------------------

/// `data` of Create Product / Edit Product.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductWriteResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub product_id: String,
    pub skus: Vec<CreatedSku>,
    pub warnings: Vec<Warning>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreatedSku {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    pub seller_sku: String,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub external_sku_id: Option<String>,
    pub sales_attributes: Vec<CreatedSalesAttribute>,
}

/// A sales attribute of a created SKU as TikTok answers it: ids only (SDK
/// `CreateProductResponseDataSkusSalesAttributes`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreatedSalesAttribute {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub value_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Warning {
    pub message: String,
}

/// `data` of Get Attributes (`GET /product/202309/categories/{id}/attributes`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CategoryAttributes {
    pub attributes: Vec<CategoryAttribute>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CategoryAttribute {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    pub name: String,
    /// `SALES_PROPERTY` or `PRODUCT_PROPERTY`.
    #[serde(rename = "type")]
    pub kind: AttributeKind,
    /// TikTok's own spelling (sic).
    #[serde(deserialize_with = "lenient::boolean")]
    pub is_requried: bool,
    /// The corrected spelling, accepted in case TikTok fixes it.
    #[serde(deserialize_with = "lenient::boolean", skip_serializing)]
    pub is_required: bool,
    pub values: Vec<AttributeValueOption>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub is_customizable: bool,
    #[serde(deserialize_with = "lenient::boolean")]
    pub is_multiple_selection: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requirement_conditions: Vec<serde_json::Value>,
}

impl CategoryAttribute {
    /// Required, whichever spelling TikTok used.
    pub fn required(&self) -> bool {
        self.is_requried || self.is_required
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttributeValueOption {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum AttributeKind {
    SalesProperty,
    #[default]
    ProductProperty,
    Unknown(String),
}

impl AttributeKind {
    pub fn as_str(&self) -> &str {
        match self {
            AttributeKind::SalesProperty => "SALES_PROPERTY",
            AttributeKind::ProductProperty => "PRODUCT_PROPERTY",
            AttributeKind::Unknown(s) => s,
        }
    }
}

impl Serialize for AttributeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AttributeKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = lenient::string(d)?;
        Ok(match s.as_str() {
            "SALES_PROPERTY" => AttributeKind::SalesProperty,
            "PRODUCT_PROPERTY" => AttributeKind::ProductProperty,
            _ => AttributeKind::Unknown(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_accept_both_spellings_and_numeric_ids() {
        let a: CategoryAttributes = serde_json::from_value(json!({"attributes": [
            {"id": 100392, "name": "Material", "type": "PRODUCT_PROPERTY", "is_requried": true, "values": [{"id": 1, "name": "Baumwolle"}]},
            {"id": "100393", "name": "Pattern", "type": "PRODUCT_PROPERTY", "is_required": true},
            {"id": "100000", "name": "Color", "type": "SALES_PROPERTY", "new_field": 1}
        ]}))
        .unwrap();
        assert_eq!(a.attributes[0].id, "100392");
        assert!(a.attributes[0].required() && a.attributes[1].required() && !a.attributes[2].required());
        assert_eq!(a.attributes[2].kind, AttributeKind::SalesProperty);
    }

    #[test]
    fn inventory_quantity_accepts_strings_and_clamps_negatives() {
        let inv: Vec<Inventory> = serde_json::from_value(json!([
            {"warehouse_id": 7300000000000000001u64, "quantity": "12"},
            {"warehouse_id": "W", "quantity": -3},
            {"warehouse_id": "W"}
        ]))
        .unwrap();
        assert_eq!(
            inv[0],
            Inventory {
                warehouse_id: "7300000000000000001".into(),
                quantity: 12
            }
        );
        assert_eq!((inv[1].quantity, inv[2].quantity), (0, 0));
    }

    #[test]
    fn request_skips_empty_optionals() {
        let body = ProductRequest {
            title: "T".into(),
            category_id: "600001".into(),
            skus: vec![Sku {
                seller_sku: "A".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(
            v,
            json!({"title": "T", "description": "", "category_id": "600001", "main_images": [], "skus": [{"seller_sku": "A"}]})
        );
    }
}
