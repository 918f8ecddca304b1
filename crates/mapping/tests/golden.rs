//! Golden-fixture tests: realistic PlentyONE / TikTok JSON in, the expected payload JSON compared
//! structurally. `UPDATE_GOLDEN=1 cargo test -p tts-mapping --test golden` rewrites the expected files
//! (review the diff before committing).

use std::collections::HashMap;
use std::path::PathBuf;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tts_mapping::category::CategoryMapping;
use tts_mapping::inventory::{InventoryConfig, StockBuffer, WarehouseMapping};
use tts_mapping::order::{MappedOrder, OrderMappingConfig, map_order};
use tts_mapping::problem::{codes, has_errors};
use tts_mapping::product::{MappedProduct, ProductContext, ProductMappingConfig, map_product};
use tts_mapping::status::{ImportDecision, StatusConfig, should_import};
use tts_mapping::validate::{ValidationRules, WriteMode, validate_product};
use tts_plenty::model::Variation;
use tts_tiktok::model::order::Order;
use tts_tiktok::model::product::{CategoryAttributes, ProductAttribute, ProductAttributeValue};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read_json<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let text = std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Compares `actual` with the golden file structurally; `UPDATE_GOLDEN=1` rewrites it.
fn assert_golden(name: &str, actual: &Value) {
    let path = fixture_path(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, serde_json::to_string_pretty(actual).unwrap() + "\n").unwrap();
        return;
    }
    let expected: Value = read_json(name);
    if &expected != actual {
        panic!(
            "{name} differs from the mapped output.\n--- expected\n{}\n--- actual\n{}\n(UPDATE_GOLDEN=1 rewrites it; review the diff)",
            serde_json::to_string_pretty(&expected).unwrap(),
            serde_json::to_string_pretty(actual).unwrap()
        );
    }
}

fn product_config() -> ProductMappingConfig {
    ProductMappingConfig {
        shop_id: "7494049642642441621".into(),
        region: "DE".into(),
        currency: "EUR".into(),
        languages: vec!["de".into(), "en".into()],
        sales_price_id: 1,
        inventory: InventoryConfig {
            warehouses: WarehouseMapping::new([(1, "7300000000000000001"), (2, "7300000000000000001")]),
            buffer: StockBuffer {
                absolute: Decimal::ONE,
                percent: Decimal::from(10),
            },
            ..Default::default()
        },
        categories: CategoryMapping::new([(42, "601226"), (99, "600942")]),
        sales_attribute_ids: HashMap::from([(1, "100000".to_string())]),
        category_product_attributes: HashMap::from([(
            "601226".to_string(),
            vec![ProductAttribute {
                id: "100392".into(),
                values: vec![ProductAttributeValue {
                    id: None,
                    name: Some("Bio-Baumwolle".into()),
                }],
            }],
        )]),
        ..Default::default()
    }
}

fn shirt_context() -> ProductContext {
    ProductContext {
        image_uris: HashMap::from([
            (201, "tos-maliva-i-o3syd03w52-us/4711-front".to_string()),
            (202, "tos-maliva-i-o3syd03w52-us/4711-back".to_string()),
            (203, "tos-maliva-i-o3syd03w52-us/4711-label".to_string()),
        ]),
        attribute_image_uris: HashMap::from([(211, "tos-maliva-i-o3syd03w52-us/4711-weiss".to_string())]),
        reserved: HashMap::from([(
            1002,
            HashMap::from([("7300000000000000001".to_string(), Decimal::from(2))]),
        )]),
        existing_sku_ids: HashMap::new(),
    }
}

fn product_view(mapped: &MappedProduct, validation: &[tts_mapping::Problem]) -> Value {
    json!({
        "request": mapped.request,
        "skus": mapped.skus,
        "images_to_upload": mapped.images_to_upload,
        "language": mapped.language,
        "mapping_problems": mapped.problems,
        "validation_problems": validation,
    })
}

fn shirt_attributes() -> CategoryAttributes {
    serde_json::from_value(json!({"attributes": [
        {"id": "100392", "name": "Material", "type": "PRODUCT_PROPERTY", "is_requried": true, "is_customizable": true, "values": []},
        {"id": "100398", "name": "Pflegehinweise", "type": "PRODUCT_PROPERTY", "is_requried": false, "values": []},
        {"id": "100000", "name": "Farbe", "type": "SALES_PROPERTY", "is_requried": false, "values": []}
    ]}))
    .unwrap()
}

#[test]
fn three_attribute_shirt_with_umlauts() {
    let variations: Vec<Variation> = read_json("product/organic_shirt_3_attributes.plenty.json");
    let mapped = map_product(&variations, &product_config(), &shirt_context());
    let rules = ValidationRules::new("DE", Some("EUR"), WriteMode::Create);
    let problems = validate_product(&mapped.request, &rules, Some(&shirt_attributes()));
    assert_golden(
        "product/organic_shirt_3_attributes.tiktok.json",
        &product_view(&mapped, &problems),
    );

    // Facts the golden file must show, asserted here so a careless UPDATE_GOLDEN cannot hide them.
    let r = &mapped.request;
    assert_eq!(r.skus.len(), 4);
    assert!(r.skus.iter().all(|s| s.sales_attributes.len() == 3));
    assert_eq!(r.skus[0].sales_attributes[1].name.as_deref(), Some("Größe"));
    assert_eq!(
        r.skus[3].sales_attributes[1].value_name.as_deref(),
        Some("3XL (Übergröße)")
    );
    assert_eq!(r.package_weight.as_ref().unwrap().value, "0.26");
    assert_eq!(r.package_dimensions.as_ref().unwrap().length, "31");
    assert_eq!(r.category_id, "601226");
    assert!(!r.description.contains("<img"));
    assert_eq!(r.skus[2].inventory[0].quantity, 99_999);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(mapped.images_to_upload.len(), 1);
}

#[test]
fn idempotency_key_is_stable_across_stock_changes_but_not_content_changes() {
    let mut variations: Vec<Variation> = read_json("product/organic_shirt_3_attributes.plenty.json");
    let config = product_config();
    let first = map_product(&variations, &config, &shirt_context())
        .request
        .idempotency_key;
    variations[0].stock[0].net_stock += Decimal::from(5);
    let after_stock_change = map_product(&variations, &config, &shirt_context())
        .request
        .idempotency_key;
    assert_eq!(first, after_stock_change);
    variations[0].variation_sales_prices[0].price = Decimal::new(2290, 2);
    let after_price_change = map_product(&variations, &config, &shirt_context())
        .request
        .idempotency_key;
    assert_ne!(first, after_price_change);
    assert!(first.unwrap().len() <= 128);
}

#[test]
fn idempotency_key_names_plentyone_images_not_tiktok_uris() {
    let mut variations: Vec<Variation> = read_json("product/organic_shirt_3_attributes.plenty.json");
    let config = product_config();
    let key = |variations: &[Variation], ctx: &ProductContext| {
        map_product(variations, &config, ctx)
            .request
            .idempotency_key
            .unwrap()
    };
    let first = key(&variations, &shirt_context());
    // The same images uploaded again: TikTok answers with new uris.
    let mut uploaded_again = shirt_context();
    for uri in uploaded_again
        .image_uris
        .values_mut()
        .chain(uploaded_again.attribute_image_uris.values_mut())
    {
        uri.push_str("-second-upload");
    }
    assert_eq!(first, key(&variations, &uploaded_again), "new TikTok uris");
    // Nothing uploaded yet (the body is not sendable, but a retry must find the same key).
    let nothing_uploaded = ProductContext {
        reserved: shirt_context().reserved,
        ..Default::default()
    };
    assert_eq!(first, key(&variations, &nothing_uploaded), "no uris at all");
    // Another image in PlentyONE (same id, new file) is new content.
    let url = variations
        .iter()
        .flat_map(|v| &v.item_images)
        .find(|i| i.id == 201)
        .and_then(|i| i.url.clone())
        .unwrap();
    for v in &mut variations {
        for i in v.item_images.iter_mut().filter(|i| i.id == 201) {
            i.url = Some(format!("{url}?v=2"));
        }
    }
    assert_ne!(
        first,
        key(&variations, &shirt_context()),
        "PlentyONE image changed"
    );
}

#[test]
fn single_variation_mug_has_no_sales_attributes() {
    let variations: Vec<Variation> = read_json("product/mug_single_variation.plenty.json");
    let ctx = ProductContext {
        image_uris: HashMap::from([(300, "tos-maliva-i-o3syd03w52-us/5000-1".to_string())]),
        ..Default::default()
    };
    let mapped = map_product(&variations, &product_config(), &ctx);
    let problems = validate_product(
        &mapped.request,
        &ValidationRules::new("DE", Some("EUR"), WriteMode::Create),
        None,
    );
    assert_golden(
        "product/mug_single_variation.tiktok.json",
        &product_view(&mapped, &problems),
    );
    assert!(mapped.request.skus[0].sales_attributes.is_empty());
    // Image 301 is not uploaded and net stock is 0: both block a create.
    let codes_found: Vec<&str> = mapped.problems.iter().chain(&problems).map(|p| p.code).collect();
    assert!(
        codes_found.contains(&codes::IMAGE_NOT_UPLOADED),
        "{codes_found:?}"
    );
    assert!(
        codes_found.contains(&codes::QUANTITY_ZERO_ON_CREATE),
        "{codes_found:?}"
    );
}

#[test]
fn a_301_sku_product_is_rejected_for_a_300_sku_region() {
    let template: Vec<Variation> = read_json("product/organic_shirt_3_attributes.plenty.json");
    let variations: Vec<Variation> = (0..301)
        .map(|i| {
            let mut v = template[(i % 4) as usize].clone();
            v.id = 10_000 + i;
            v.is_main = i == 0;
            v.position = Some(i);
            v.number = Some(format!("BIO-TS-{i:03}"));
            for barcode in &mut v.variation_barcodes {
                barcode.code = format!("400638{i:07}");
            }
            // Make every combination distinct: the size value carries the running number.
            for av in &mut v.variation_attribute_values {
                if av.attribute_id == 2 {
                    av.value_id = 1000 + i;
                    let value = av.attribute_value.as_mut().unwrap();
                    value.id = 1000 + i;
                    for n in &mut value.names {
                        n.name = format!("Größe {i}");
                    }
                }
            }
            v
        })
        .collect();
    let ctx = shirt_context();
    let mapped = map_product(&variations, &product_config(), &ctx);
    let problems = validate_product(
        &mapped.request,
        &ValidationRules::new("DE", Some("EUR"), WriteMode::Create),
        None,
    );
    assert_golden("product/shirt_301_skus.problems.json", &json!(problems));
    assert_eq!(mapped.request.skus.len(), 301);
    assert!(
        problems
            .iter()
            .any(|p| p.code == codes::SKUS_TOO_MANY && p.path == "skus")
    );
    // The same product is fine for 300 SKUs once one variation is gone ...
    let fine = map_product(&variations[..300], &product_config(), &ctx);
    let fine_problems = validate_product(
        &fine.request,
        &ValidationRules::new("DE", Some("EUR"), WriteMode::Create),
        None,
    );
    assert!(!fine_problems.iter().any(|p| p.code == codes::SKUS_TOO_MANY));
    // ... and a 100-SKU region rejects it.
    let sg = validate_product(
        &fine.request,
        &ValidationRules::new("SG", Some("EUR"), WriteMode::Create),
        None,
    );
    assert!(sg.iter().any(|p| p.code == codes::SKUS_TOO_MANY));
}

fn order_config(currency_shop: &str) -> OrderMappingConfig {
    let german = currency_shop == "EUR";
    OrderMappingConfig {
        shipping_item_name: if german { "Versandkosten" } else { "Shipping costs" }.into(),
        seller_discount_item_name: if german {
            "TikTok Shop Rabatt (Verkäufer)"
        } else {
            "TikTok Shop discount (seller)"
        }
        .into(),
        platform_discount_item_name: if german {
            "TikTok Shop Rabatt (Plattform)"
        } else {
            "TikTok Shop discount (platform)"
        }
        .into(),
        shop_id: "7494049642642441621".into(),
        plenty_id: 41234,
        referrer_id: Decimal::new(14301, 2),
        language: if german { "de".into() } else { "en".into() },
        payment_method_id: Some(6001),
        system_currency: Some("EUR".into()),
        status: StatusConfig {
            import_on_hold_after_window: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn lookup(seller_sku: &str, _sku_id: &str) -> Option<i64> {
    match seller_sku {
        "BIO-TS-W-M" => Some(1001),
        "BIO-TS-W-L" => Some(1002),
        "BIO-TS-S-M" => Some(1003),
        "BIO-TS-S-3XL" => Some(1004),
        "BECHER-WEISS-L" => Some(2001),
        _ => None,
    }
}

fn order_view(mapped: &MappedOrder) -> Value {
    json!({
        "externalOrderId": mapped.external_order_id,
        "contact": mapped.contact,
        "address": mapped.address,
        "addressComplete": mapped.address_complete,
        "order": mapped.linked_order(501, 601, 601),
        "payment": mapped.payment,
        "comments": mapped.comments,
        "total": mapped.total,
        "problems": mapped.problems,
    })
}

#[test]
fn order_with_discounts_shipping_and_an_unknown_sku() {
    let order: Order = read_json("order/discount_and_shipping.tiktok.json");
    assert_eq!(
        should_import(
            &order.status,
            order.create_time,
            order.create_time + 60,
            &StatusConfig::default()
        ),
        ImportDecision::Import
    );
    let mapped = map_order(&order, &order_config("EUR"), &lookup);
    assert_golden("order/discount_and_shipping.plenty.json", &order_view(&mapped));

    assert!(!has_errors(&mapped.problems), "{:?}", mapped.problems);
    assert_eq!(mapped.total, "74.62".parse::<Decimal>().unwrap());
    assert_eq!(mapped.order.status_id, Some(Decimal::from(5)));
    assert_eq!(
        mapped.order.property(7),
        Some("7494049642642441621_577086512123755001")
    );
    let items = &mapped.order.order_items;
    assert_eq!(items[0].quantity, Decimal::from(2));
    assert_eq!(items.iter().filter(|i| i.type_id == 4).count(), 2);
    assert_eq!(
        items.iter().find(|i| i.type_id == 9).unwrap().order_item_name,
        "Geschenkbox Größe S (SKU GESCHENK BOX)"
    );
    assert_eq!(
        items.iter().find(|i| i.type_id == 6).unwrap().amounts[0].price_original_gross,
        Decimal::new(495, 2)
    );
    assert!(
        items
            .iter()
            .all(|i| i.referrer_id == Some(Decimal::new(14301, 2)))
    );
    assert_eq!(
        (mapped.address.address1.as_str(), mapped.address.address2.as_str()),
        ("Hauptstraße", "5a")
    );
    // The masked phone number is dropped, not copied.
    assert!(!mapped.address.options.iter().any(|o| o.type_id == 4));
}

#[test]
fn on_hold_order_with_masked_address_waits_then_imports_as_incomplete() {
    let order: Order = read_json("order/on_hold_masked_address.tiktok.json");
    let defaults = StatusConfig::default();
    assert!(matches!(
        should_import(
            &order.status,
            order.create_time,
            order.create_time + 60,
            &defaults
        ),
        ImportDecision::Wait { .. }
    ));
    let mapped = map_order(&order, &order_config("GBP"), &lookup);
    assert_golden("order/on_hold_masked_address.plenty.json", &order_view(&mapped));

    assert!(!mapped.address_complete);
    assert_eq!(mapped.order.status_id, Some(Decimal::ONE));
    assert_eq!(mapped.address.name3, "", "a masked name must not be copied");
    assert_eq!(mapped.address.postal_code, "");
    assert_eq!(mapped.address.country_id, Some(12));
    assert!(
        mapped
            .problems
            .iter()
            .any(|p| p.code == codes::ADDRESS_INCOMPLETE)
    );
    assert!(!has_errors(&mapped.problems));
    assert_eq!(mapped.total, Decimal::from(18));
}

#[test]
fn us_order_adds_sales_tax_to_reconcile() {
    let order: Order = read_json("order/us_sales_tax.tiktok.json");
    let mut config = order_config("USD");
    config.countries.overrides.insert("US".into(), 28);
    let mapped = map_order(&order, &config, &lookup);
    assert_golden("order/us_sales_tax.plenty.json", &order_view(&mapped));
    assert!(!has_errors(&mapped.problems), "{:?}", mapped.problems);
    assert_eq!(mapped.total, "35.98".parse::<Decimal>().unwrap());
    assert_eq!(
        (
            mapped.address.address1.as_str(),
            mapped.address.address2.as_str(),
            mapped.address.address3.as_str()
        ),
        ("Main St", "123", "Apt 4")
    );
}

#[test]
fn unreconcilable_totals_are_an_error() {
    let mut order: Order = read_json("order/discount_and_shipping.tiktok.json");
    order.payment.as_mut().unwrap().total_amount = Some("74.63".into());
    let mapped = map_order(&order, &order_config("EUR"), &lookup);
    let problem = mapped
        .problems
        .iter()
        .find(|p| p.code == codes::AMOUNTS_DO_NOT_RECONCILE)
        .expect("problem");
    assert!(problem.is_error());
    assert!(problem.message.contains("0.01"), "{}", problem.message);
}

#[test]
fn partly_cancelled_lines_are_left_out() {
    let mut order: Order = read_json("order/discount_and_shipping.tiktok.json");
    order.line_items[3].display_status = "CANCELLED".into();
    order.payment.as_mut().unwrap().total_amount = Some("69.67".into());
    let mapped = map_order(&order, &order_config("EUR"), &lookup);
    assert!(!has_errors(&mapped.problems), "{:?}", mapped.problems);
    let found: Vec<&str> = mapped.problems.iter().map(|p| p.code).collect();
    assert_eq!(found, vec![codes::LINE_ITEM_CANCELLED]);
    assert!(!mapped.order.order_items.iter().any(|i| i.type_id == 9));
}

#[test]
fn map_and_validate_reports_each_cause_once() {
    use tts_mapping::product::map_and_validate;
    let variations: Vec<Variation> = read_json("product/mug_single_variation.plenty.json");
    let config = ProductMappingConfig {
        categories: CategoryMapping::default(),
        ..product_config()
    };
    let mapped = map_and_validate(
        &variations,
        &config,
        &ProductContext::default(),
        None,
        WriteMode::Create,
    );
    let found: Vec<(&str, &str)> = mapped
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.code))
        .collect();
    assert_eq!(
        found,
        vec![
            ("category_id", codes::CATEGORY_UNMAPPED),
            ("main_images[0]", codes::IMAGE_NOT_UPLOADED),
            ("main_images[1]", codes::IMAGE_NOT_UPLOADED),
            ("skus[0].inventory[0].quantity", codes::QUANTITY_ZERO_ON_CREATE),
        ]
    );
}

#[test]
fn shipping_profile_follows_the_delivery_option() {
    let order: Order = read_json("order/discount_and_shipping.tiktok.json");
    let mut config = order_config("EUR");
    config.shipping_profile_id = Some(1);
    config.shipping_profiles.insert("Standard shipping".into(), 12);
    let mapped = map_order(&order, &config, &lookup);
    assert_eq!(mapped.order.property(2), Some("12"));
    assert!(
        mapped
            .order
            .order_items
            .iter()
            .filter(|i| i.type_id == 1)
            .all(|i| i.shipping_profile_id == Some(12))
    );
}

#[test]
fn configs_read_from_json_with_defaults() {
    let product: ProductMappingConfig = serde_json::from_value(json!({
        "shop_id": "7494049642642441621", "region": "UK", "currency": "GBP", "languages": ["en"],
        "sales_price_id": 3,
        "inventory": {"warehouses": {"links": [{"plenty_warehouse_id": 1, "tiktok_warehouse_id": "730"}]},
                      "buffer": {"absolute": 2, "percent": "12.5"}},
        "categories": {"categories": {"42": "601226"}, "default_category_id": null},
        "seller_sku_source": "variation_id", "description_format": "plain_text",
        "sales_attribute_ids": {"1": "100000"}
    }))
    .unwrap();
    assert_eq!(product.inventory.buffer.percent, Decimal::new(125, 1));
    assert_eq!(
        product.categories.resolve(&[42]).unwrap().tiktok_category_id(),
        "601226"
    );
    assert!(
        product.skip_attributeless_main_variation,
        "defaults fill the rest"
    );
    let order: OrderMappingConfig = serde_json::from_value(json!({
        "shop_id": "7494049642642441621", "plenty_id": 41234, "referrer_id": 143.01, "language": "en",
        "status": {"overrides": {"AWAITING_SHIPMENT": 5.1}, "on_hold_window_secs": 1800},
        "countries": {"overrides": {"US": 28}}, "discount_mode": "net_item_price"
    }))
    .unwrap();
    assert_eq!(order.referrer_id, Decimal::new(14301, 2));
    assert_eq!(order.status.overrides["AWAITING_SHIPMENT"], Decimal::new(51, 1));
    assert!(!order.status.import_unpaid);
    assert_eq!(order.shipping_item_name, "Versandkosten");
}

#[test]
fn a_variation_missing_an_attribute_is_reported() {
    use tts_mapping::product::map_and_validate;
    let mut variations: Vec<Variation> = read_json("product/organic_shirt_3_attributes.plenty.json");
    variations[2]
        .variation_attribute_values
        .retain(|av| av.attribute_id != 3);
    let mapped = map_and_validate(
        &variations,
        &product_config(),
        &shirt_context(),
        None,
        WriteMode::Edit,
    );
    let found: Vec<(&str, &str)> = mapped
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.code))
        .collect();
    assert_eq!(
        found,
        vec![("skus[2].sales_attributes", codes::SALES_ATTRIBUTES_INCONSISTENT)]
    );
}

#[test]
fn text_language_fallback_and_image_truncation_are_warnings() {
    use tts_mapping::product::map_and_validate;
    let mut variations: Vec<Variation> = read_json("product/mug_single_variation.plenty.json");
    let v = &mut variations[0];
    v.item.as_mut().unwrap().texts.retain(|t| t.lang == "en");
    v.item.as_mut().unwrap().texts[0].name1 = Some("Coffee mug L – white, dishwasher safe".into());
    let template = v.item_images[0].clone();
    v.item_images = (0..12)
        .map(|i| tts_plenty::model::ItemImage {
            id: 900 + i,
            position: i,
            ..template.clone()
        })
        .collect();
    v.stock[0].net_stock = Decimal::from(5);
    let ctx = ProductContext {
        image_uris: (900..912).map(|id| (id, format!("tos/{id}"))).collect(),
        ..Default::default()
    };
    let mapped = map_and_validate(&variations, &product_config(), &ctx, None, WriteMode::Create);
    assert_eq!(mapped.language.as_deref(), Some("en"));
    assert_eq!(mapped.request.main_images.len(), 9);
    let found: Vec<&str> = mapped.problems.iter().map(|p| p.code).collect();
    assert_eq!(
        found,
        vec![codes::TEXT_LANGUAGE_FALLBACK, codes::MAIN_IMAGES_TRUNCATED]
    );
    assert!(!has_errors(&mapped.problems));
}

#[test]
fn payments_only_for_paid_orders() {
    let mut order: Order = read_json("order/discount_and_shipping.tiktok.json");
    assert!(map_order(&order, &order_config("EUR"), &lookup).payment.is_some());
    for status in [
        tts_tiktok::model::order::OrderStatus::Unpaid,
        tts_tiktok::model::order::OrderStatus::Cancelled,
    ] {
        order.status = status;
        let mapped = map_order(&order, &order_config("EUR"), &lookup);
        assert!(mapped.payment.is_none(), "{}", order.status);
    }
    assert_eq!(
        map_order(&order, &order_config("EUR"), &lookup).order.status_id,
        Some(Decimal::from(8))
    );
}
