//! PlentyONE answers: every model the client decodes (`decode` names the failing path), the paged
//! list wrapper and the login answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tts_plenty::api::{orders::Order, packages::ShippingPackage, payments, referrers::Referrer};
use tts_plenty::client::{auth::parse_login, response::decode};
use tts_plenty::model::{Item, Page, Variation, VariationSku, VariationStock};

fn all<T: serde::de::DeserializeOwned>(body: &[u8]) {
    let _ = decode::<T>("fuzz", body);
    let _ = decode::<Vec<T>>("fuzz", body);
    let _ = decode::<Page<T>>("fuzz", body);
}

fuzz_target!(|body: &[u8]| {
    all::<Variation>(body);
    all::<Item>(body);
    all::<VariationSku>(body);
    all::<VariationStock>(body);
    all::<Order>(body);
    all::<ShippingPackage>(body);
    all::<payments::Payment>(body);
    all::<payments::PaymentMethod>(body);
    all::<Referrer>(body);
    let _ = parse_login(body);
});
