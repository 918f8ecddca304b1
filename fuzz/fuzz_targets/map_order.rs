//! Order → PlentyONE: a TikTok order (decoded from JSON as it arrives) under arbitrary shop settings,
//! mapped to contact, address, order and payment. Never fails: problems are listed instead.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tts_fuzz::decimal;
use tts_mapping::order::{DiscountMode, OrderMappingConfig, map_order};
use tts_tiktok::model::order::Order;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    net_item_price: bool,
    /// Every SKU found in PlentyONE (else none is).
    variations_known: bool,
    vat_rate: Option<(i64, u8)>,
    system_currency: Option<&'a str>,
    shipping_profile_id: Option<i64>,
    shipping_profile_for: Option<(&'a str, i64)>,
    referrer: (i64, u8),
    order_json: &'a [u8],
}


fuzz_target!(|input: Input<'_>| {
    let Ok(order) = serde_json::from_slice::<Order>(input.order_json) else { return };
    let config = OrderMappingConfig {
        shop_id: "7495540735365777507".into(),
        plenty_id: 1,
        referrer_id: decimal(input.referrer),
        discount_mode: if input.net_item_price { DiscountMode::NetItemPrice } else { DiscountMode::CouponItems },
        vat_rate: input.vat_rate.map(decimal),
        system_currency: input.system_currency.map(str::to_string),
        shipping_profile_id: input.shipping_profile_id,
        shipping_profiles: input.shipping_profile_for.map(|(k, v)| (k.to_string(), v)).into_iter().collect(),
        payment_method_id: Some(6001),
        ..OrderMappingConfig::default()
    };
    let known = input.variations_known;
    let lookup = move |seller_sku: &str, _sku_id: &str| known.then(|| seller_sku.len() as i64 + 1);
    let mapped = map_order(&order, &config, &lookup);
    let linked = mapped.linked_order(1, 2, 3);
    serde_json::to_vec(&linked).expect("the order body serializes");
    serde_json::to_vec(&mapped.contact).expect("the contact serializes");
    serde_json::to_vec(&mapped.address).expect("the address serializes");
});
