//! Property tests: stock bounds, exact amounts, weight conversion, and no panics on arbitrary input.

use std::collections::HashMap;

use proptest::prelude::*;
use rust_decimal::Decimal;
use tts_mapping::address::split_street;
use tts_mapping::inventory::{InventoryConfig, StockBuffer, WarehouseMapping, tiktok_inventory};
use tts_mapping::order::{DiscountMode, OrderMappingConfig, map_order};
use tts_mapping::problem::codes;
use tts_mapping::product::{grams_to_kilograms, millimetres_to_centimetres};
use tts_mapping::validate::{ValidationRules, WriteMode, validate_product};
use tts_plenty::model::VariationStock;
use tts_tiktok::model::order::{LineItem, Order, OrderStatus, Payment, RecipientAddress};
use tts_tiktok::model::product::{
    ImageRef, Inventory, PackageDimensions, PackageWeight, Price, ProductRequest, SalesAttribute, Sku,
};

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn stock_is_never_negative_never_above_the_bound_and_never_above_what_exists(
        stock in prop::collection::vec((1i64..5, -1_000_000i64..10_000_000, 0u32..4), 0..8),
        absolute in 0i64..200,
        percent in 0i64..=100,
        reserved in 0i64..2_000,
    ) {
        let stock: Vec<VariationStock> = stock
            .into_iter()
            .map(|(warehouse_id, milli, scale)| VariationStock {
                warehouse_id,
                net_stock: Decimal::new(milli, scale),
                ..Default::default()
            })
            .collect();
        let config = InventoryConfig {
            warehouses: WarehouseMapping::new([(1, "A"), (2, "A"), (3, "B")]),
            buffer: StockBuffer { absolute: Decimal::from(absolute), percent: Decimal::from(percent) },
            ..Default::default()
        };
        let reserved = HashMap::from([("A".to_string(), Decimal::from(reserved))]);
        let inventory = tiktok_inventory(&stock, &config, &reserved);
        prop_assert_eq!(inventory.len(), 2);
        for inv in inventory {
            prop_assert!(inv.quantity <= 99_999);
            let mapped: &[i64] = if inv.warehouse_id == "A" { &[1, 2] } else { &[3] };
            let net: Decimal = stock.iter().filter(|s| mapped.contains(&s.warehouse_id)).map(|s| s.net_stock).sum();
            prop_assert!(Decimal::from(inv.quantity) <= net.max(Decimal::ZERO));
        }
    }

    #[test]
    fn order_amounts_reconcile_exactly(
        lines in prop::collection::vec((0usize..3, 1i64..100_000, 0i64..100, 0i64..100), 1..12),
        shipping in 0i64..5_000,
        net_mode in any::<bool>(),
    ) {
        // Unit prices in cents; discounts as percent of the price, rounded to cents like TikTok does.
        let mut sub_total = Decimal::ZERO;
        let line_items: Vec<LineItem> = lines
            .iter()
            .enumerate()
            .map(|(i, (sku, price, seller_pct, platform_pct))| {
                let original = cents(*price);
                let seller = (original * Decimal::from(*seller_pct) / Decimal::from(200)).round_dp(2);
                let platform = (original * Decimal::from(*platform_pct) / Decimal::from(200)).round_dp(2);
                let sale = original - seller - platform;
                sub_total += sale;
                LineItem {
                    id: format!("L{i}"),
                    sku_id: format!("S{sku}"),
                    seller_sku: format!("SKU-{sku}"),
                    product_name: "Größe".into(),
                    original_price: original.to_string(),
                    sale_price: sale.to_string(),
                    seller_discount: Some(seller.to_string()),
                    platform_discount: Some(platform.to_string()),
                    currency: "EUR".into(),
                    ..Default::default()
                }
            })
            .collect();
        let total = sub_total + cents(shipping);
        let order = Order {
            id: "1".into(),
            status: OrderStatus::AwaitingShipment,
            line_items,
            payment: Some(Payment {
                currency: "EUR".into(),
                shipping_fee: Some(cents(shipping).to_string()),
                total_amount: Some(total.to_string()),
                ..Default::default()
            }),
            recipient_address: Some(RecipientAddress::default()),
            ..Default::default()
        };
        let config = OrderMappingConfig {
            discount_mode: if net_mode { DiscountMode::NetItemPrice } else { DiscountMode::CouponItems },
            ..Default::default()
        };
        let lookup = |seller_sku: &str, _: &str| (seller_sku != "SKU-2").then_some(7);
        let mapped = map_order(&order, &config, &lookup);
        prop_assert!(!mapped.problems.iter().any(|p| p.code == codes::AMOUNTS_DO_NOT_RECONCILE), "{:?}", mapped.problems);
        prop_assert_eq!(mapped.total, total);
        let items_sum: Decimal = mapped
            .order
            .order_items
            .iter()
            .map(|i| i.quantity * i.amounts[0].price_original_gross)
            .sum();
        prop_assert_eq!(items_sum, total);
        let units: Decimal = mapped.order.order_items.iter().filter(|i| i.type_id == 1 || i.type_id == 9).map(|i| i.quantity).sum();
        prop_assert_eq!(units, Decimal::from(lines.len() as u64));
    }

    #[test]
    fn positive_weights_never_become_zero(milligrams in 1i64..10_000_000_000, scale in 0u32..4) {
        let grams = Decimal::new(milligrams, scale);
        let kg: Decimal = grams_to_kilograms(grams).parse().unwrap();
        prop_assert!(kg > Decimal::ZERO);
        prop_assert!(kg.scale() <= 3);
        prop_assert!(kg * Decimal::ONE_THOUSAND >= grams, "rounded down: {} g -> {} kg", grams, kg);
        prop_assert!(kg * Decimal::ONE_THOUSAND - grams < Decimal::ONE, "more than 1 g added");
        prop_assert!(millimetres_to_centimetres(grams) >= 1);
    }

    #[test]
    fn validation_never_panics_on_arbitrary_strings(
        title in any::<String>(),
        description in ".{0,200}",
        skus in prop::collection::vec((any::<String>(), any::<String>(), any::<String>(), any::<String>(), any::<u32>()), 0..6),
        weight in any::<String>(),
        dims in any::<String>(),
        region in "[A-Z]{2}",
    ) {
        let request = ProductRequest {
            title,
            description,
            category_id: "1".into(),
            main_images: vec![ImageRef { uri: "u".into() }],
            skus: skus
                .into_iter()
                .map(|(seller_sku, amount, name, value, quantity)| Sku {
                    seller_sku,
                    price: Some(Price { amount, currency: "EUR".into(), sale_price: None }),
                    inventory: vec![Inventory { warehouse_id: "W".into(), quantity }],
                    sales_attributes: vec![SalesAttribute { name: Some(name), value_name: Some(value), ..Default::default() }],
                    ..Default::default()
                })
                .collect(),
            package_weight: Some(PackageWeight { value: weight, unit: "KILOGRAM".into() }),
            package_dimensions: Some(PackageDimensions { length: dims.clone(), width: dims.clone(), height: dims, unit: "CENTIMETER".into() }),
            ..Default::default()
        };
        for mode in [WriteMode::Create, WriteMode::Edit] {
            let _ = validate_product(&request, &ValidationRules::new(&region, Some("EUR"), mode), None);
        }
    }

    #[test]
    fn order_mapping_never_panics_on_arbitrary_strings(
        line1 in any::<String>(),
        name in any::<String>(),
        region in any::<String>(),
        amount in prop_oneof![any::<String>(), "-?[0-9]{1,28}(\\.[0-9]{1,28})?"],
        total in prop_oneof![any::<String>(), "-?[0-9]{1,28}(\\.[0-9]{1,28})?"],
        discount in prop_oneof![any::<String>(), "-?[0-9]{1,28}(\\.[0-9]{1,28})?"],
        quantity in any::<Option<i64>>(),
    ) {
        let _ = split_street(&line1);
        let order = Order {
line_items: vec![
                LineItem {
                    sale_price: amount.clone(),
                    original_price: amount,
                    seller_discount: Some(discount.clone()),
                    platform_discount: Some(discount),
                    quantity,
                    ..Default::default()
                };
                3
            ],
            payment: Some(Payment { total_amount: Some(total), ..Default::default() }),
            recipient_address: Some(RecipientAddress { address_line1: line1, name, region_code: region, ..Default::default() }),
            ..Default::default()
        };
        let _ = map_order(&order, &OrderMappingConfig::default(), &|_: &str, _: &str| None);
    }
}

proptest! {
    #[test]
    fn extreme_stock_values_do_not_overflow(a in any::<i64>(), b in any::<i64>(), scale in 0u32..28, pct in any::<i64>()) {
        let stock = vec![
            VariationStock { warehouse_id: 1, net_stock: Decimal::MAX - Decimal::new(a.unsigned_abs() as i64 & i64::MAX, 0), ..Default::default() },
            VariationStock { warehouse_id: 1, net_stock: Decimal::new(b, scale), ..Default::default() },
            VariationStock { warehouse_id: 2, net_stock: Decimal::MIN, ..Default::default() },
        ];
        let config = InventoryConfig {
            warehouses: WarehouseMapping::new([(1, "A"), (2, "A")]),
            buffer: StockBuffer { absolute: Decimal::MAX, percent: Decimal::from(pct) },
            ..Default::default()
        };
        for inv in tiktok_inventory(&stock, &config, &HashMap::new()) {
            prop_assert!(inv.quantity <= 99_999);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn product_mapping_never_panics_on_extreme_numbers(
        nums in prop::collection::vec((any::<i64>(), 0u32..29), 6),
        number in any::<String>(),
        name in any::<String>(),
    ) {
        use tts_mapping::product::{ProductContext, ProductMappingConfig, map_and_validate};
        use tts_plenty::model::{ItemText, Variation, VariationSalesPrice};
        let d = |i: usize| Decimal::new(nums[i].0, nums[i].1);
        let v = Variation {
            id: 1,
            item_id: 2,
            is_main: true,
            number: Some(number),
            weight_g: Some(d(0)),
            length_mm: Some(d(1)),
            width_mm: Some(d(2)),
            height_mm: Some(d(3)),
            variation_sales_prices: vec![VariationSalesPrice { sales_price_id: 1, price: d(4), ..Default::default() }],
            stock: vec![VariationStock { warehouse_id: 1, net_stock: d(5), ..Default::default() }],
            texts: vec![ItemText { lang: "de".into(), name1: Some(name), ..Default::default() }],
            ..Default::default()
        };
        let config = ProductMappingConfig {
            inventory: InventoryConfig { warehouses: WarehouseMapping::new([(1, "W")]), ..Default::default() },
            ..Default::default()
        };
        let mapped = map_and_validate(&[v], &config, &ProductContext::default(), None, WriteMode::Create);
        prop_assert!(mapped.request.skus[0].inventory[0].quantity <= 99_999);
    }
}
