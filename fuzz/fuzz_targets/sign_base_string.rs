//! Request signing: arbitrary path, query (single and list values, excluded keys), body and content
//! type → base string and `sign`. Checks the documented shape: 64 lowercase hex, excluded keys and
//! unsigned bodies leave the base string unchanged.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tts_tiktok::sign::{QueryValue, SignInput, base_string, sign};

#[derive(Arbitrary, Debug)]
struct Input {
    path: String,
    query: Vec<(String, Option<String>, Vec<String>)>,
    body: Option<Vec<u8>>,
    content_type: Option<String>,
    legacy: bool,
    app_secret: String,
}

fuzz_target!(|input: Input| {
    let query: Vec<(String, QueryValue)> = input
        .query
        .into_iter()
        .map(|(k, one, many)| (k, one.map(QueryValue::One).unwrap_or(QueryValue::Many(many))))
        .collect();
    let signed = SignInput {
        path: &input.path,
        query: &query,
        body: input.body.as_deref(),
        content_type: input.content_type.as_deref(),
        legacy: input.legacy,
    };
    let base = base_string(&signed);
    assert!(base.starts_with(input.path.as_bytes()));
    let signature = sign(&input.app_secret, &signed);
    assert_eq!(signature.len(), 64);
    assert!(signature.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));

    let mut with_excluded = query.clone();
    with_excluded.push(("sign".into(), QueryValue::One("x".into())));
    with_excluded.push(("access_token".into(), QueryValue::One("y".into())));
    assert_eq!(base_string(&SignInput { query: &with_excluded, ..signed }), base);
    let unsigned_body = SignInput { body: None, ..signed };
    let legacy = SignInput { legacy: true, ..signed };
    assert_eq!(base_string(&legacy), base_string(&SignInput { legacy: true, ..unsigned_body }));
});
