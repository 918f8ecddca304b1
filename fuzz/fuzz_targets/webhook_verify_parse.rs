//! Raw webhook bytes + `Authorization` header → verified, typed notification (what the route calls).
//! Half the inputs carry their own header (forgeries: must be refused), half are signed here so the
//! parser behind the signature check is reached too.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tts_fuzz::{APP_KEY, APP_SECRET};
use tts_tiktok::webhook::{sign, verify_and_parse};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// `None`: sign the body with the app secret (a genuine notification).
    forged_authorization: Option<&'a str>,
    /// A second, rotated secret is configured too.
    rotated_secret: bool,
    raw_body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let secrets: &[&str] = if input.rotated_secret { &["rotated", APP_SECRET] } else { &[APP_SECRET] };
    let genuine = sign(APP_KEY, APP_SECRET, input.raw_body);
    let authorization = input.forged_authorization.unwrap_or(&genuine);
    let result = verify_and_parse(APP_KEY, secrets, authorization, input.raw_body);
    if authorization.trim() != genuine {
        // Only a different spelling of the genuine signature (case, whitespace) may pass.
        if result.is_ok() {
            assert!(authorization.trim().eq_ignore_ascii_case(&genuine), "forged signature accepted");
        }
    }
    if let Ok(notification) = result {
        serde_json::to_vec(&notification).expect("a notification serializes");
    }
});
