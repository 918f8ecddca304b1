//! PlentyONE item (its variations with relations) → TikTok Create/Edit Product body.
//!
//! One PlentyONE item becomes one TikTok product; each sellable variation becomes one SKU whose
//! sales attributes are the variation's attribute values (Farbe / Größe / Material). Mapping never
//! stops early: whatever cannot be mapped is reported as a [`Problem`] and left empty, and
//! [`crate::validate`] then checks the finished body.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tts_plenty::model::{ItemImage, ItemText, Variation, VariationSku};
use tts_tiktok::model::inventory::{InventoryUpdateRequest, SkuInventory};
use tts_tiktok::model::price::{PriceUpdateRequest, SkuPrice};
use tts_tiktok::model::product::{
    IdentifierCode, ImageRef, PackageDimensions, PackageWeight, Price, ProductAttribute, ProductPartialEdit,
    ProductRequest, SalesAttribute, SaveMode, Sku,
};

use crate::category::{CategoryMapping, CategoryMatch};
use crate::inventory::{InventoryConfig, variation_inventory};
use crate::problem::{Problem, codes};
use crate::region::MAX_MAIN_IMAGES;
use crate::validate::{ValidationRules, WriteMode, validate_product};
use tts_tiktok::model::product::CategoryAttributes;

/// Which PlentyONE field becomes `seller_sku`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SellerSkuSource {
    /// The variation number (`number`).
    #[default]
    Number,
    /// The variation id.
    VariationId,
    /// The variation's `externalId`.
    ExternalId,
}

/// Which item text becomes the description.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionSource {
    #[default]
    Description,
    ShortDescription,
    /// Short description, then the description.
    Both,
}

/// How the description text is turned into TikTok's HTML.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionFormat {
    /// PlentyONE's HTML as is, minus `<img>` tags (TikTok only accepts images it hosts).
    #[default]
    Html,
    /// Tags stripped; every non-empty line becomes an escaped `<p>` paragraph.
    PlainText,
}

/// Per-shop product mapping settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductMappingConfig {
    /// TikTok shop id (part of the idempotency key).
    pub shop_id: String,
    /// Shop region (`DE`, `UK`, `US`, ...): validation limits.
    pub region: String,
    /// Shop currency (`EUR`, `GBP`, ...): prices are sent in it.
    pub currency: String,
    /// Text languages in order of preference (`["de", "en"]`); the first with a name wins.
    pub languages: Vec<String>,
    /// PlentyONE sales price id whose price becomes the TikTok price.
    pub sales_price_id: i64,
    pub inventory: InventoryConfig,
    pub categories: CategoryMapping,
    pub seller_sku_source: SellerSkuSource,
    pub description_source: DescriptionSource,
    pub description_format: DescriptionFormat,
    pub brand_id: Option<String>,
    /// `v1` or `v2` (US and SEA need `v2`).
    pub category_version: Option<String>,
    pub save_mode: Option<SaveMode>,
    /// PlentyONE attribute id → TikTok built-in sales attribute id (e.g. Farbe → Color's id). Unmapped
    /// attributes are sent by name (custom sales attributes).
    pub sales_attribute_ids: HashMap<i64, String>,
    /// Fixed product attributes per TikTok category id (e.g. required "Material" for a category).
    pub category_product_attributes: HashMap<String, Vec<ProductAttribute>>,
    /// PlentyONE barcode type id to send as `identifier_code`; `None` = the first valid barcode.
    pub barcode_id: Option<i64>,
    /// In an item with several variations, leave out a main variation that has no attribute values
    /// (a "parent" that is not sold itself). Default true.
    pub skip_attributeless_main_variation: bool,
}

impl Default for ProductMappingConfig {
    fn default() -> Self {
        ProductMappingConfig {
            shop_id: String::new(),
            region: "DE".into(),
            currency: "EUR".into(),
            languages: vec!["de".into(), "en".into()],
            sales_price_id: 1,
            inventory: InventoryConfig::default(),
            categories: CategoryMapping::default(),
            seller_sku_source: SellerSkuSource::Number,
            description_source: DescriptionSource::Description,
            description_format: DescriptionFormat::Html,
            brand_id: None,
            category_version: None,
            save_mode: None,
            sales_attribute_ids: HashMap::new(),
            category_product_attributes: HashMap::new(),
            barcode_id: None,
            skip_attributeless_main_variation: true,
        }
    }
}

/// What the mapper needs besides the variations: results of earlier calls.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProductContext {
    /// PlentyONE image id → TikTok `uri` of the image uploaded with `use_case=MAIN_IMAGE`.
    pub image_uris: HashMap<i64, String>,
    /// PlentyONE image id → TikTok `uri` uploaded with `use_case=ATTRIBUTE_IMAGE` (SKU images must
    /// be uploaded for that use case).
    pub attribute_image_uris: HashMap<i64, String>,
    /// Variation id → units per TikTok warehouse sold on TikTok but not yet in PlentyONE's net stock
    /// (the oversell guard; see `tts_sync::stock::StoreReservations`).
    pub reserved: HashMap<i64, HashMap<String, Decimal>>,
    /// Variation id → TikTok SKU id, for edits of an existing product.
    pub existing_sku_ids: HashMap<i64, String>,
}

/// A variation ↔ SKU link to store (and to save as a PlentyONE variation SKU).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkuLink {
    pub variation_id: i64,
    pub seller_sku: String,
}

/// An image that must be uploaded to TikTok before the body can be sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageUpload {
    pub image_id: i64,
    pub url: String,
    /// `MAIN_IMAGE` or `ATTRIBUTE_IMAGE`.
    pub use_case: &'static str,
}

/// The mapped product, with everything the caller has to act on.
#[derive(Clone, Debug, PartialEq)]
pub struct MappedProduct {
    pub item_id: i64,
    pub request: ProductRequest,
    pub skus: Vec<SkuLink>,
    pub images_to_upload: Vec<ImageUpload>,
    pub category: Option<CategoryMatch>,
    /// Language of the texts used.
    pub language: Option<String>,
    pub problems: Vec<Problem>,
}

/// Maps the variations of one PlentyONE item. Inactive variations are left out.
pub fn map_product(
    variations: &[Variation],
    config: &ProductMappingConfig,
    ctx: &ProductContext,
) -> MappedProduct {
    let mut problems = Vec::new();
    let mut active: Vec<&Variation> = variations.iter().filter(|v| v.is_active != Some(false)).collect();
    active.sort_by_key(|v| (v.position.unwrap_or(i64::MAX), v.id));
    if config.skip_attributeless_main_variation && active.len() > 1 {
        let any_with_attributes = active.iter().any(|v| !v.variation_attribute_values.is_empty());
        if any_with_attributes {
            active.retain(|v| !(v.is_main && v.variation_attribute_values.is_empty()));
        }
    }
    let item_id = variations.first().map(|v| v.item_id).unwrap_or_default();
    if active.is_empty() {
        problems.push(Problem::error(
            "skus",
            codes::NO_VARIATIONS,
            "the item has no active variation",
        ));
    }
    let main = variations.iter().find(|v| v.is_main).or(active.first().copied());

    // Texts.
    let (text, language) = match main.map(|m| choose_text(texts_of(m), &config.languages)) {
        Some((Some(t), lang)) => (Some(t), Some(lang)),
        _ => (None, None),
    };
    if let (Some(lang), Some(preferred)) = (&language, config.languages.first())
        && !lang.eq_ignore_ascii_case(preferred)
    {
        problems.push(Problem::warning(
            "title",
            codes::TEXT_LANGUAGE_FALLBACK,
            format!("no item text in {preferred:?}; used {lang:?}"),
        ));
    }
    if text.is_none() {
        problems.push(Problem::error(
            "title",
            codes::TEXT_MISSING,
            "the item has no text with a name (name1)",
        ));
    }
    let title = text
        .and_then(|t| t.name1.clone())
        .unwrap_or_default()
        .trim()
        .to_string();
    let description = text.map(|t| build_description(t, config)).unwrap_or_default();
    let lang = language
        .clone()
        .unwrap_or_else(|| config.languages.first().cloned().unwrap_or_default());

    // Category: the main variation's categories first, then the others'.
    let mut category_ids: Vec<i64> = Vec::new();
    for v in main.into_iter().chain(active.iter().copied()) {
        for c in &v.variation_categories {
            if !category_ids.contains(&c.category_id) {
                category_ids.push(c.category_id);
            }
        }
    }
    let category = match config.categories.resolve(&category_ids) {
        Ok(m) => Some(m),
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let category_id = category
        .as_ref()
        .map(|c| c.tiktok_category_id().to_string())
        .unwrap_or_default();

    // Main images: the item's images by position; only if the item has none, the variations' own
    // images (those otherwise become the SKU images of the first sales attribute).
    let mut images_to_upload = Vec::new();
    let mut all_images: Vec<&ItemImage> = Vec::new();
    let has_item_images = main
        .into_iter()
        .chain(active.iter().copied())
        .any(|v| !v.item_images.is_empty());
    for v in main.into_iter().chain(active.iter().copied()) {
        let images = if has_item_images {
            &v.item_images
        } else {
            &v.images
        };
        for img in images {
            if !all_images.iter().any(|i| i.id == img.id) {
                all_images.push(img);
            }
        }
    }
    all_images.sort_by_key(|i| (i.position, i.id));
    if all_images.len() > MAX_MAIN_IMAGES {
        problems.push(Problem::warning(
            "main_images",
            codes::MAIN_IMAGES_TRUNCATED,
            format!(
                "{} images; TikTok takes {MAX_MAIN_IMAGES}, the first {MAX_MAIN_IMAGES} by position are used",
                all_images.len()
            ),
        ));
    }
    let mut main_images = Vec::new();
    // The same images named by their PlentyONE source, for the idempotency key (see
    // [`idempotency_key`]): TikTok gives every upload a new uri.
    let mut main_image_sources = Vec::new();
    for (i, img) in all_images.iter().take(MAX_MAIN_IMAGES).enumerate() {
        main_image_sources.push(ImageRef {
            uri: image_source(img),
        });
        match ctx.image_uris.get(&img.id) {
            Some(uri) => main_images.push(ImageRef { uri: uri.clone() }),
            None => {
                images_to_upload.push(ImageUpload {
                    image_id: img.id,
                    url: img.url.clone().unwrap_or_default(),
                    use_case: "MAIN_IMAGE",
                });
                problems.push(Problem::error(
                    format!("main_images[{i}]"),
                    codes::IMAGE_NOT_UPLOADED,
                    format!("PlentyONE image {} is not uploaded to TikTok yet", img.id),
                ));
            }
        }
    }

    // SKUs.
    let multi = active.len() > 1;
    let mut skus = Vec::with_capacity(active.len());
    let mut links = Vec::with_capacity(active.len());
    let mut sku_image_sources: Vec<Option<ImageRef>> = Vec::with_capacity(active.len());
    for (i, v) in active.iter().enumerate() {
        let seller_sku = seller_sku_of(v, config.seller_sku_source);
        let price = match v
            .variation_sales_prices
            .iter()
            .find(|p| p.sales_price_id == config.sales_price_id)
        {
            Some(p) => Some(Price {
                amount: format_money(p.price, &config.currency),
                currency: config.currency.clone(),
                sale_price: None,
            }),
            None => {
                problems.push(Problem::error(
                    format!("skus[{i}].price"),
                    codes::PRICE_MISSING,
                    format!("variation {} has no sales price {}", v.id, config.sales_price_id),
                ));
                None
            }
        };
        let empty = HashMap::new();
        let inventory = variation_inventory(v, &config.inventory, ctx.reserved.get(&v.id).unwrap_or(&empty));
        let mut sales_attributes = if multi {
            sales_attributes_of(v, &lang, config)
        } else {
            Vec::new()
        };
        let mut sku_image_source = None;
        if let Some(first) = sales_attributes.first_mut()
            && let Some(img) = first_own_image(v)
        {
            sku_image_source = Some(ImageRef {
                uri: image_source(img),
            });
            match ctx.attribute_image_uris.get(&img.id) {
                Some(uri) => first.sku_img = Some(ImageRef { uri: uri.clone() }),
                None => {
                    if !images_to_upload
                        .iter()
                        .any(|u| u.image_id == img.id && u.use_case == "ATTRIBUTE_IMAGE")
                    {
                        images_to_upload.push(ImageUpload {
                            image_id: img.id,
                            url: img.url.clone().unwrap_or_default(),
                            use_case: "ATTRIBUTE_IMAGE",
                        });
                    }
                }
            }
        }
        sku_image_sources.push(sku_image_source);
        links.push(SkuLink {
            variation_id: v.id,
            seller_sku: seller_sku.clone(),
        });
        skus.push(Sku {
            id: ctx.existing_sku_ids.get(&v.id).cloned(),
            seller_sku,
            price,
            list_price: None,
            inventory,
            sales_attributes,
            external_sku_id: Some(v.id.to_string()),
            identifier_code: identifier_code_of(v, config.barcode_id),
        });
    }

    // Package: the largest variation decides (one package size per product).
    let weight_g = active
        .iter()
        .filter_map(|v| v.weight_g)
        .filter(|w| *w > Decimal::ZERO)
        .max();
    let package_weight = weight_g.map(|g| PackageWeight {
        value: grams_to_kilograms(g),
        unit: "KILOGRAM".into(),
    });
    if package_weight.is_none() && !active.is_empty() {
        problems.push(Problem::error(
            "package_weight",
            codes::PACKAGE_WEIGHT_MISSING,
            "no variation has a weight (weightG)",
        ));
    }
    let max_mm = |f: fn(&Variation) -> Option<Decimal>| {
        active
            .iter()
            .filter_map(|v| f(v))
            .filter(|d| *d > Decimal::ZERO)
            .max()
    };
    let package_dimensions = match (
        max_mm(|v| v.length_mm),
        max_mm(|v| v.width_mm),
        max_mm(|v| v.height_mm),
    ) {
        (Some(l), Some(w), Some(h)) => Some(PackageDimensions {
            length: millimetres_to_centimetres(l).to_string(),
            width: millimetres_to_centimetres(w).to_string(),
            height: millimetres_to_centimetres(h).to_string(),
            unit: "CENTIMETER".into(),
        }),
        _ => None,
    };

    let mut request = ProductRequest {
        title,
        description,
        category_id: category_id.clone(),
        category_version: config.category_version.clone(),
        brand_id: config.brand_id.clone(),
        main_images,
        skus,
        package_weight,
        package_dimensions,
        product_attributes: config
            .category_product_attributes
            .get(&category_id)
            .cloned()
            .unwrap_or_default(),
        external_product_id: (item_id != 0).then(|| item_id.to_string()),
        save_mode: config.save_mode,
        ..Default::default()
    };
    // The key hashes the body with the PlentyONE images in place of TikTok's uris (uploaded or
    // not), so it depends on PlentyONE's content only and survives a new upload of the same image.
    let mut keyed = request.clone();
    keyed.main_images = main_image_sources;
    for (sku, source) in keyed.skus.iter_mut().zip(sku_image_sources) {
        if let Some(first) = sku.sales_attributes.first_mut() {
            first.sku_img = source;
        }
    }
    request.idempotency_key = Some(idempotency_key(&config.shop_id, item_id, &keyed));

    MappedProduct {
        item_id,
        request,
        skus: links,
        images_to_upload,
        category,
        language,
        problems,
    }
}

/// [`map_product`] then [`validate_product`] with the config's region and currency: one list with the
/// mapping and validation problems (a validation problem the mapper already explained, like a
/// missing category or an image not uploaded yet, is not repeated).
pub fn map_and_validate(
    variations: &[Variation],
    config: &ProductMappingConfig,
    ctx: &ProductContext,
    attributes: Option<&CategoryAttributes>,
    mode: WriteMode,
) -> MappedProduct {
    let mut mapped = map_product(variations, config, ctx);
    let rules = ValidationRules::new(&config.region, Some(&config.currency), mode);
    for problem in validate_product(&mapped.request, &rules, attributes) {
        let explained_by = match problem.code {
            codes::CATEGORY_MISSING => Some(codes::CATEGORY_UNMAPPED),
            codes::MAIN_IMAGES_MISSING => Some(codes::IMAGE_NOT_UPLOADED),
            _ => None,
        };
        let repeated = mapped
            .problems
            .iter()
            .any(|m| (m.path == problem.path && m.code == problem.code) || Some(m.code) == explained_by);
        if !repeated {
            mapped.problems.push(problem);
        }
    }
    mapped
}

/// PlentyONE variation SKU bodies (`POST …/variation_skus`) linking each variation to its TikTok SKU
/// under the TikTok referrer (`marketId` = referrer id, spec D.2), so order import can find the
/// variation by SKU. `tiktok_sku_ids`: `seller_sku` → TikTok SKU id from the create response;
/// `parent_sku`: the TikTok product id.
pub fn variation_skus(
    links: &[SkuLink],
    referrer_id: Decimal,
    account_id: i64,
    tiktok_sku_ids: &HashMap<String, String>,
    parent_sku: Option<&str>,
) -> Vec<VariationSku> {
    links
        .iter()
        .map(|link| VariationSku {
            id: None,
            variation_id: link.variation_id,
            market_id: referrer_id,
            account_id,
            sku: link.seller_sku.clone(),
            parent_sku: parent_sku.map(str::to_string),
            initial_sku: Some(link.seller_sku.clone()),
            status: Some("ACTIVE".into()),
            additional_information: tiktok_sku_ids.get(&link.seller_sku).cloned(),
        })
        .collect()
}

/// Inventory update body (`…/inventory/update`) for the SKUs whose TikTok id is known
/// (`seller_sku` → TikTok SKU id). Every warehouse of a SKU is listed, as TikTok requires.
pub fn inventory_update(
    request: &ProductRequest,
    sku_ids: &HashMap<String, String>,
) -> InventoryUpdateRequest {
    InventoryUpdateRequest {
        skus: request
            .skus
            .iter()
            .filter_map(|sku| {
                let id = sku.id.clone().or_else(|| sku_ids.get(&sku.seller_sku).cloned())?;
                Some(SkuInventory {
                    id,
                    inventory: sku.inventory.clone(),
                })
            })
            .collect(),
    }
}

/// Price update body (`…/prices/update`) for the SKUs whose TikTok id is known.
pub fn price_update(request: &ProductRequest, sku_ids: &HashMap<String, String>) -> PriceUpdateRequest {
    PriceUpdateRequest {
        skus: request
            .skus
            .iter()
            .filter_map(|sku| {
                let id = sku.id.clone().or_else(|| sku_ids.get(&sku.seller_sku).cloned())?;
                Some(SkuPrice {
                    id,
                    price: sku.price.clone()?,
                    list_price: sku.list_price.clone(),
                })
            })
            .collect(),
    }
}

/// Partial Edit body with only the top-level properties that changed between the last body sent and
/// the current one (each sent complete, as TikTok requires), or `None` when nothing but stock and
/// prices changed (those go through [`inventory_update`] / [`price_update`]). Partial Edit cannot
/// change the category: a changed `category_id` needs a full Edit, which callers check for.
pub fn partial_edit(previous: &ProductRequest, current: &ProductRequest) -> Option<ProductPartialEdit> {
    fn changed<T: PartialEq + Clone>(old: &T, new: &T) -> Option<T> {
        (old != new).then(|| new.clone())
    }
    let without_stock_and_price = |skus: &[Sku]| -> Vec<Sku> {
        skus.iter()
            .map(|s| Sku {
                inventory: Vec::new(),
                price: None,
                list_price: None,
                ..s.clone()
            })
            .collect()
    };
    let edit = ProductPartialEdit {
        title: changed(&previous.title, &current.title),
        description: changed(&previous.description, &current.description),
        brand_id: changed(&previous.brand_id, &current.brand_id).flatten(),
        main_images: changed(&previous.main_images, &current.main_images),
        skus: (without_stock_and_price(&previous.skus) != without_stock_and_price(&current.skus))
            .then(|| current.skus.clone()),
        package_weight: changed(&previous.package_weight, &current.package_weight).flatten(),
        package_dimensions: changed(&previous.package_dimensions, &current.package_dimensions).flatten(),
        product_attributes: changed(&previous.product_attributes, &current.product_attributes),
        external_product_id: None,
    };
    (edit != ProductPartialEdit::default()).then_some(edit)
}

/// Deterministic create key from (shop, item, content): a retried create with the same content
/// reuses it, so TikTok does not create the product twice. Stock quantities and the key itself are
/// left out of the hash, because stock may change between a failed try and its retry.
///
/// `request` must name images by something stable: [`map_product`] passes its body with every
/// image as [`image_source`] (PlentyONE image id and URL) instead of the TikTok uri, which is new
/// on every upload of the same image.
pub fn idempotency_key(shop_id: &str, item_id: i64, request: &ProductRequest) -> String {
    let mut content = request.clone();
    content.idempotency_key = None;
    for sku in &mut content.skus {
        for inv in &mut sku.inventory {
            inv.quantity = 0;
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(shop_id.as_bytes());
    hasher.update([0]);
    hasher.update(item_id.to_string().as_bytes());
    hasher.update([0]);
    // Serialising our own struct cannot fail; the field order is fixed by the struct.
    hasher.update(serde_json::to_vec(&content).unwrap_or_default());
    format!("tts-{item_id}-{}", &hex::encode(hasher.finalize())[..40])
}

/// Grams → kilograms with at most 3 decimals, rounded up (so a positive weight never becomes 0).
pub fn grams_to_kilograms(grams: Decimal) -> String {
    let kg = (grams.max(Decimal::ZERO) / Decimal::ONE_THOUSAND)
        .round_dp_with_strategy(3, RoundingStrategy::AwayFromZero);
    kg.normalize().to_string()
}

/// Millimetres → whole centimetres, rounded up, at least 1.
pub fn millimetres_to_centimetres(mm: Decimal) -> u64 {
    use rust_decimal::prelude::ToPrimitive;
    if mm <= Decimal::ZERO {
        return 1;
    }
    (mm / Decimal::TEN).ceil().to_u64().unwrap_or(u64::MAX).max(1)
}

/// Minor-unit digits of a currency (ISO 4217) for the ones TikTok supports.
pub fn currency_decimals(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "JPY" | "IDR" | "VND" | "KRW" | "CLP" => 0,
        _ => 2,
    }
}

/// A price as TikTok's decimal string in `currency` ("19.90", "1980").
pub fn format_money(amount: Decimal, currency: &str) -> String {
    let dp = currency_decimals(currency);
    let mut rounded = amount.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(dp);
    rounded.to_string()
}

fn texts_of(v: &Variation) -> &[ItemText] {
    if !v.texts.is_empty() {
        &v.texts
    } else {
        v.item.as_ref().map(|i| i.texts.as_slice()).unwrap_or(&[])
    }
}

/// The text in the first preferred language with a name; else the first text with a name.
fn choose_text<'a>(texts: &'a [ItemText], languages: &[String]) -> (Option<&'a ItemText>, String) {
    let has_name = |t: &&ItemText| t.name1.as_deref().is_some_and(|n| !n.trim().is_empty());
    for lang in languages {
        if let Some(t) = texts
            .iter()
            .filter(has_name)
            .find(|t| t.lang.eq_ignore_ascii_case(lang))
        {
            return (Some(t), t.lang.clone());
        }
    }
    match texts.iter().find(has_name) {
        Some(t) => (Some(t), t.lang.clone()),
        None => (None, String::new()),
    }
}

fn build_description(text: &ItemText, config: &ProductMappingConfig) -> String {
    let short = text.short_description.as_deref().unwrap_or("").trim();
    let long = text.description.as_deref().unwrap_or("").trim();
    let raw = match config.description_source {
        DescriptionSource::Description => long.to_string(),
        DescriptionSource::ShortDescription => short.to_string(),
        DescriptionSource::Both if short.is_empty() => long.to_string(),
        DescriptionSource::Both if long.is_empty() => short.to_string(),
        DescriptionSource::Both => format!("{short}\n{long}"),
    };
    match config.description_format {
        DescriptionFormat::Html => remove_img_tags(&raw),
        DescriptionFormat::PlainText => strip_tags(&raw)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| format!("<p>{}</p>", escape_html(l)))
            .collect(),
    }
}

fn remove_img_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = find_ascii_case_insensitive(rest, "<img") {
        out.push_str(&rest[..start]);
        match rest[start..].find('>') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push('\n');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn seller_sku_of(v: &Variation, source: SellerSkuSource) -> String {
    match source {
        SellerSkuSource::Number => v.number.clone().unwrap_or_default().trim().to_string(),
        SellerSkuSource::VariationId => v.id.to_string(),
        SellerSkuSource::ExternalId => v.external_id.clone().unwrap_or_default().trim().to_string(),
    }
}

/// Sales attributes in attribute position order, names in `lang` (fallback: backend names).
fn sales_attributes_of(v: &Variation, lang: &str, config: &ProductMappingConfig) -> Vec<SalesAttribute> {
    let mut by_position: BTreeMap<(i64, i64), SalesAttribute> = BTreeMap::new();
    for av in &v.variation_attribute_values {
        let attribute = av.attribute.as_ref();
        let position = attribute.and_then(|a| a.position).unwrap_or(i64::MAX);
        let name = attribute
            .map(|a| {
                a.names
                    .iter()
                    .find(|n| n.lang.eq_ignore_ascii_case(lang) && !n.name.trim().is_empty())
                    .map(|n| n.name.trim().to_string())
                    .unwrap_or_else(|| a.backend_name.trim().to_string())
            })
            .unwrap_or_default();
        let value = av
            .attribute_value
            .as_ref()
            .map(|val| {
                val.names
                    .iter()
                    .find(|n| n.lang.eq_ignore_ascii_case(lang) && !n.name.trim().is_empty())
                    .map(|n| n.name.trim().to_string())
                    .unwrap_or_else(|| val.backend_name.trim().to_string())
            })
            .unwrap_or_default();
        let tiktok_id = config.sales_attribute_ids.get(&av.attribute_id).cloned();
        by_position.insert(
            (position, av.attribute_id),
            SalesAttribute {
                // TikTok takes `id` (built-in attribute) or `name` (custom attribute), not both.
                name: tiktok_id.is_none().then(|| {
                    if name.is_empty() {
                        format!("Attribute {}", av.attribute_id)
                    } else {
                        name
                    }
                }),
                id: tiktok_id,
                value_name: (!value.is_empty()).then_some(value),
                ..Default::default()
            },
        );
    }
    by_position.into_values().collect()
}

/// A PlentyONE image as the idempotency key names it (`plenty:<image id>:<url>`): it changes when
/// PlentyONE's image does, not when the same image is uploaded to TikTok again. Pure.
pub fn image_source(img: &ItemImage) -> String {
    format!("plenty:{}:{}", img.id, img.url.as_deref().unwrap_or_default())
}

fn first_own_image(v: &Variation) -> Option<&ItemImage> {
    v.images.iter().min_by_key(|i| (i.position, i.id))
}

/// GTIN/EAN/UPC/ISBN from the variation's barcodes (check digits are not verified).
fn identifier_code_of(v: &Variation, barcode_id: Option<i64>) -> Option<IdentifierCode> {
    v.variation_barcodes
        .iter()
        .filter(|b| barcode_id.is_none_or(|id| b.barcode_id == id))
        .find_map(|b| {
            let declared = b.barcode.as_ref().and_then(|t| t.kind.as_deref()).unwrap_or("");
            identifier_code_for(&b.code, declared)
        })
}

/// The TikTok identifier code for a barcode, by TikTok's rules: GTIN 14 digits, EAN 8/13/14 digits,
/// UPC 12 digits, ISBN 13 characters (digits, the last may be `X`). `declared_type` is PlentyONE's
/// barcode type (only ISBN changes the choice); codes that fit no rule give `None`.
pub fn identifier_code_for(code: &str, declared_type: &str) -> Option<IdentifierCode> {
    let code = code.trim();
    let kind = if declared_type.to_ascii_uppercase().contains("ISBN") {
        "ISBN"
    } else {
        match code.len() {
            12 => "UPC",
            8 | 13 => "EAN",
            14 => "GTIN",
            _ => return None,
        }
    };
    let candidate = IdentifierCode {
        code: code.to_string(),
        kind: kind.to_string(),
    };
    identifier_code_is_valid(&candidate).then_some(candidate)
}

/// TikTok's format rule for an identifier code of its type.
pub fn identifier_code_is_valid(code: &IdentifierCode) -> bool {
    let c = code.code.as_str();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match code.kind.as_str() {
        "GTIN" => c.len() == 14 && digits(c),
        "EAN" => matches!(c.len(), 8 | 13 | 14) && digits(c),
        "UPC" => c.len() == 12 && digits(c),
        "ISBN" => {
            c.len() == 13 && digits(&c[..12]) && (c.as_bytes()[12].is_ascii_digit() || c.ends_with('X'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_conversions_round_up_and_never_reach_zero() {
        assert_eq!(grams_to_kilograms(Decimal::from(250)), "0.25");
        assert_eq!(grams_to_kilograms(Decimal::from(1)), "0.001");
        assert_eq!(grams_to_kilograms(Decimal::new(1, 1)), "0.001");
        assert_eq!(grams_to_kilograms(Decimal::from(1500)), "1.5");
        assert_eq!(grams_to_kilograms(Decimal::new(12345, 1)), "1.235");
        assert_eq!(millimetres_to_centimetres(Decimal::from(301)), 31);
        assert_eq!(millimetres_to_centimetres(Decimal::from(300)), 30);
        assert_eq!(millimetres_to_centimetres(Decimal::from(1)), 1);
        assert_eq!(millimetres_to_centimetres(Decimal::ZERO), 1);
        assert_eq!(millimetres_to_centimetres(Decimal::from(-30)), 1);
    }

    #[test]
    fn partial_edit_sends_only_changed_properties() {
        let old = ProductRequest {
            title: "Becher".into(),
            skus: vec![Sku {
                seller_sku: "B-1".into(),
                price: Some(Price {
                    amount: "9.90".into(),
                    currency: "EUR".into(),
                    sale_price: None,
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut new = old.clone();
        new.skus[0].price.as_mut().unwrap().amount = "8.90".into();
        assert_eq!(partial_edit(&old, &new), None);
        let ids = HashMap::from([("B-1".to_string(), "17296".to_string())]);
        assert_eq!(price_update(&new, &ids).skus[0].price.amount, "8.90");
        new.title = "Kaffeebecher".into();
        let edit = partial_edit(&old, &new).unwrap();
        assert_eq!(edit.title.as_deref(), Some("Kaffeebecher"));
        assert!(edit.skus.is_none() && edit.description.is_none());
    }

    #[test]
    fn identifier_codes_follow_tiktok_rules() {
        let code = |c: &str, t: &str| identifier_code_for(c, t).map(|i| i.kind);
        assert_eq!(code("4006381333931", ""), Some("EAN".into()));
        assert_eq!(code("036000291452", "UPC"), Some("UPC".into()));
        assert_eq!(code("12345678", ""), Some("EAN".into()));
        assert_eq!(code("04006381333931", ""), Some("GTIN".into()));
        assert_eq!(code("978316148410X", "ISBN"), Some("ISBN".into()));
        assert_eq!(code("97831614841", "ISBN"), None);
        assert_eq!(code("ABC123456789", ""), None);
        assert_eq!(code("12345", ""), None);
    }

    #[test]
    fn money_uses_currency_digits() {
        assert_eq!(format_money(Decimal::new(199, 1), "EUR"), "19.90");
        assert_eq!(format_money(Decimal::from(1980), "JPY"), "1980");
        assert_eq!(format_money(Decimal::new(19995, 3), "GBP"), "20.00");
    }

    #[test]
    fn descriptions_drop_foreign_images_or_become_paragraphs() {
        let t = ItemText {
            description: Some("<p>Weiß &amp; weich</p><IMG src=\"x.jpg\"><p>100 % Baumwolle</p>".into()),
            ..Default::default()
        };
        let mut c = ProductMappingConfig::default();
        assert_eq!(
            build_description(&t, &c),
            "<p>Weiß &amp; weich</p><p>100 % Baumwolle</p>"
        );
        c.description_format = DescriptionFormat::PlainText;
        assert_eq!(
            build_description(&t, &c),
            "<p>Weiß &amp; weich</p><p>100 % Baumwolle</p>"
        );
    }
}
