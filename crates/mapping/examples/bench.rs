//! Throughput and peak memory of the product mapping, streamed item by item.
//!
//! `cargo run --release -p tts-mapping --example bench [items] [variants]` (default 25,000 × 4 =
//! 100,000 variations). Each item's variations are generated from the 3-attribute fixture, written as
//! PlentyONE REST JSON, then timed: JSON decode → map → validate → TikTok JSON body. Only one item is
//! in memory at a time. Peak memory is the process's `VmHWM`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use tts_mapping::category::CategoryMapping;
use tts_mapping::inventory::{InventoryConfig, StockBuffer, WarehouseMapping};
use tts_mapping::product::{ProductContext, ProductMappingConfig, map_product};
use tts_mapping::validate::{ValidationRules, WriteMode, validate_product};
use tts_plenty::model::Variation;
use tts_tiktok::model::product::{CategoryAttributes, ProductAttribute, ProductAttributeValue};

const TEMPLATE: &str = include_str!("../tests/fixtures/product/organic_shirt_3_attributes.plenty.json");

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

/// The variations of item `n`: the fixture's variations with fresh ids, numbers, prices and stock,
/// written as the JSON page the REST client would receive.
fn generate_item_json(template: &[Variation], n: i64, variants: usize) -> String {
    let item_id = 100_000 + n;
    let variations: Vec<Variation> = (0..variants)
        .map(|k| {
            let mut v = template[k % template.len()].clone();
            v.id = item_id * 1000 + k as i64;
            for barcode in &mut v.variation_barcodes {
                barcode.code = format!("{:013}", v.id);
            }
            v.item_id = item_id;
            v.is_main = k == 0;
            v.position = Some(k as i64);
            v.number = Some(format!("BT-{item_id}-{k}"));
            v.variation_sales_prices[0].price = Decimal::new(1990 + (n % 500) * 10 + k as i64, 2);
            for s in &mut v.stock {
                s.net_stock = Decimal::from((n * 7 + k as i64 * 13) % 250);
            }
            for av in &mut v.variation_attribute_values {
                if av.attribute_id == 2
                    && let Some(value) = av.attribute_value.as_mut()
                {
                    for name in &mut value.names {
                        name.name = format!("Größe {k}");
                    }
                }
            }
            v
        })
        .collect();
    serde_json::to_string(&variations).expect("serialise")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let items: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(25_000);
    let variants: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let template: Vec<Variation> = serde_json::from_str(TEMPLATE).expect("fixture");

    let config = ProductMappingConfig {
        shop_id: "7494049642642441621".into(),
        inventory: InventoryConfig {
            warehouses: WarehouseMapping::new([(1, "7300000000000000001"), (2, "7300000000000000001")]),
            buffer: StockBuffer {
                absolute: Decimal::ONE,
                percent: Decimal::from(10),
            },
            ..Default::default()
        },
        categories: CategoryMapping::new([(42, "601226")]),
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
    };
    let ctx = ProductContext {
        image_uris: [201, 202, 203]
            .into_iter()
            .map(|id| (id, format!("tos-bench/{id}")))
            .collect(),
        attribute_image_uris: [211, 212]
            .into_iter()
            .map(|id| (id, format!("tos-bench/attr-{id}")))
            .collect(),
        ..Default::default()
    };
    let attributes: CategoryAttributes = serde_json::from_str(
        r#"{"attributes":[{"id":"100392","name":"Material","type":"PRODUCT_PROPERTY","is_requried":true}]}"#,
    )
    .unwrap();
    let rules = ValidationRules::new("DE", Some("EUR"), WriteMode::Edit);

    let rss_start = status_kib("VmRSS:").unwrap_or(0);
    let (mut decode, mut map, mut validate, mut encode) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut variations_done, mut problems, mut body_bytes) = (0usize, 0usize, 0usize);
    let wall = Instant::now();
    for n in 0..items {
        let json = generate_item_json(&template, n, variants);

        let t = Instant::now();
        let variations: Vec<Variation> = serde_json::from_str(&json).expect("decode");
        decode += t.elapsed();

        let t = Instant::now();
        let mapped = map_product(&variations, &config, &ctx);
        map += t.elapsed();

        let t = Instant::now();
        let found = validate_product(&mapped.request, &rules, Some(&attributes));
        validate += t.elapsed();

        let t = Instant::now();
        let body = serde_json::to_vec(&mapped.request).expect("encode");
        encode += t.elapsed();

        variations_done += variations.len();
        problems += found.len() + mapped.problems.len();
        body_bytes += body.len();
    }
    let wall = wall.elapsed();
    let timed = decode + map + validate + encode;
    let per_s = |d: Duration| variations_done as f64 / d.as_secs_f64();

    println!(
        "items {items} × {variants} variants = {variations_done} variations; problems {problems}; bodies {} MiB",
        body_bytes >> 20
    );
    println!();
    println!("| stage | time (s) | variations/s |");
    println!("|---|---:|---:|");
    for (name, d) in [
        ("decode PlentyONE JSON", decode),
        ("map", map),
        ("validate", validate),
        ("encode TikTok JSON", encode),
    ] {
        println!("| {name} | {:.3} | {:.0} |", d.as_secs_f64(), per_s(d));
    }
    println!(
        "| **decode + map + validate + encode** | {:.3} | **{:.0}** |",
        timed.as_secs_f64(),
        per_s(timed)
    );
    println!(
        "| wall incl. generating the input | {:.3} | {:.0} |",
        wall.as_secs_f64(),
        per_s(wall)
    );
    println!();
    println!(
        "peak memory VmHWM {} KiB (RSS at start {} KiB)",
        status_kib("VmHWM:").unwrap_or(0),
        rss_start
    );
}
