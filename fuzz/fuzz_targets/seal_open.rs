//! The sealed-value decoder: arbitrary text opened with a key ring (must be `SealOpenFailed`, never a
//! panic), a genuine sealed value with one byte altered (must never open), and key ring text parsing.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tts_core::seal::KeyRing;

const RING: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,k2:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    sealed: &'a str,
    aad: &'a [u8],
    plaintext: &'a [u8],
    tamper_at: usize,
    tamper_with: u8,
    ring_text: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let ring = KeyRing::parse(RING).expect("fixed ring parses");
    let _ = ring.open(input.sealed, input.aad);
    let _ = ring.open_str(input.sealed, "aad");
    ring.needs_reseal(input.sealed);

    let sealed = ring.seal(input.plaintext, input.aad);
    assert_eq!(&ring.open(&sealed, input.aad).expect("opens").as_slice(), &input.plaintext);
    let mut altered = sealed.clone().into_bytes();
    let at = input.tamper_at % altered.len();
    if altered[at] != input.tamper_with {
        altered[at] = input.tamper_with;
        if let Ok(text) = std::str::from_utf8(&altered) {
            // base64url without padding: the last character's low bits are not data, so an
            // altered last character may still decode to the same bytes.
            if let Ok(opened) = ring.open(text, input.aad) {
                assert_eq!(opened.as_slice(), input.plaintext, "altered text opened to other data");
            }
        }
    }
    if let Ok(parsed) = KeyRing::parse(input.ring_text) {
        let _ = parsed.open(input.sealed, input.aad);
    }
});
