//! The OAuth `state` decoder: arbitrary text verified at an arbitrary time (a typed StateInvalid /
//! StateExpired, never a panic), and a genuine state issued and verified at arbitrary times.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tts_tiktok::oauth::StateSigner;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    state: &'a str,
    issued_at: i64,
    now: i64,
    ttl_secs: u32,
}

fuzz_target!(|input: Input<'_>| {
    let ttl = 30 + input.ttl_secs % 3571;
    let signer = StateSigner::new(&["fuzz-state-key", "rotated-state-key"], ttl).expect("valid signer");
    let _ = signer.verify(input.state, input.now);
    let issued = signer.issue(input.issued_at);
    match signer.verify(&issued.state, input.now) {
        Ok(verified) => assert_eq!(verified.nonce, issued.nonce),
        Err(_) => {}
    }
});
