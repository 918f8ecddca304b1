//! Variation → TikTok product: PlentyONE variations (decoded from JSON as the PIM answers them) under
//! arbitrary shop settings, mapped and validated, then the follow-up bodies (inventory, price,
//! partial edit, idempotency key) derived from the result.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tts_fuzz::decimal;
use tts_mapping::category::CategoryMapping;
use tts_mapping::inventory::{InventoryConfig, StockBuffer, WarehouseMapping};
use tts_mapping::product::{
    DescriptionFormat, DescriptionSource, ProductContext, ProductMappingConfig, SellerSkuSource,
    idempotency_key, inventory_update, map_and_validate, partial_edit, price_update,
};
use tts_mapping::validate::WriteMode;
use tts_plenty::model::Variation;

const REGIONS: [&str; 6] = ["DE", "UK", "US", "FR", "ES", "XX"];
const CURRENCIES: [&str; 5] = ["EUR", "GBP", "USD", "JPY", ""];

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    region: u8,
    currency: u8,
    seller_sku_source: u8,
    description_source: u8,
    plain_text: bool,
    edit: bool,
    skip_attributeless_main: bool,
    default_category: bool,
    images_uploaded: bool,
    warehouse: Option<i64>,
    buffer_absolute: (i64, u8),
    buffer_percent: (i64, u8),
    zero_below: u32,
    max_quantity: Option<u32>,
    reserved: Option<(i64, u8)>,
    variations_json: &'a [u8],
}


fn pick<T: Copy>(choices: &[T], index: u8) -> T {
    choices[usize::from(index) % choices.len()]
}

fn config(input: &Input<'_>) -> ProductMappingConfig {
    ProductMappingConfig {
        shop_id: "7495540735365777507".into(),
        region: pick(&REGIONS, input.region).into(),
        currency: pick(&CURRENCIES, input.currency).into(),
        seller_sku_source: pick(
            &[SellerSkuSource::Number, SellerSkuSource::VariationId, SellerSkuSource::ExternalId],
            input.seller_sku_source,
        ),
        description_source: pick(
            &[DescriptionSource::Description, DescriptionSource::ShortDescription, DescriptionSource::Both],
            input.description_source,
        ),
        description_format: if input.plain_text { DescriptionFormat::PlainText } else { DescriptionFormat::Html },
        categories: CategoryMapping {
            categories: HashMap::new(),
            default_category_id: input.default_category.then(|| "600001".to_string()),
        },
        inventory: InventoryConfig {
            warehouses: WarehouseMapping::new(input.warehouse.map(|w| (w, "7068517275539719942"))),
            buffer: StockBuffer { absolute: decimal(input.buffer_absolute), percent: decimal(input.buffer_percent) },
            unmanaged_stock_quantity: None,
            zero_below: input.zero_below,
            max_quantity: input.max_quantity,
        },
        skip_attributeless_main_variation: input.skip_attributeless_main,
        ..ProductMappingConfig::default()
    }
}

fn context(input: &Input<'_>, variations: &[Variation]) -> ProductContext {
    let mut ctx = ProductContext::default();
    for variation in variations {
        if input.images_uploaded {
            for image in &variation.images {
                ctx.image_uris.insert(image.id, format!("tos-maliva-i-{}", image.id));
                ctx.attribute_image_uris.insert(image.id, format!("tos-maliva-a-{}", image.id));
            }
        }
        if let (Some(reserved), Some(_)) = (input.reserved, input.warehouse) {
            let per_warehouse = HashMap::from([("7068517275539719942".to_string(), decimal(reserved))]);
            ctx.reserved.insert(variation.id, per_warehouse);
        }
        if input.edit {
            ctx.existing_sku_ids.insert(variation.id, format!("17292{}", variation.id));
        }
    }
    ctx
}

fuzz_target!(|input: Input<'_>| {
    let Ok(variations) = serde_json::from_slice::<Vec<Variation>>(input.variations_json) else { return };
    let config = config(&input);
    let ctx = context(&input, &variations);
    let mode = if input.edit { WriteMode::Edit } else { WriteMode::Create };
    let mapped = map_and_validate(&variations, &config, &ctx, None, mode);
    serde_json::to_vec(&mapped.request).expect("the product body serializes");
    let sku_ids: HashMap<String, String> =
        mapped.skus.iter().map(|l| (l.seller_sku.clone(), l.variation_id.to_string())).collect();
    serde_json::to_vec(&inventory_update(&mapped.request, &sku_ids)).expect("serializes");
    serde_json::to_vec(&price_update(&mapped.request, &sku_ids)).expect("serializes");
    let _ = partial_edit(&mapped.request, &mapped.request);
    idempotency_key(&config.shop_id, mapped.item_id, &mapped.request);
});
