//! The sandbox's signature function (and the tests' own signer) reproduce every published vector.

mod common;

use serde_json::Value;

fn vectors(file: &str) -> Vec<Value> {
    let path = format!("{}/../../shared/spec/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    let list = v["vectors"].as_array().unwrap().clone();
    assert!(!list.is_empty(), "{path} has no vectors");
    list
}

fn query_of(v: &Value) -> Vec<(String, String)> {
    v["query"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, val)| {
            // List values are comma-joined before signing (official Node SDK behaviour).
            let s = match val {
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.as_str().unwrap().to_string(),
            };
            (k.clone(), s)
        })
        .collect()
}

#[test]
fn sandbox_signature_reproduces_every_sign_vector() {
    for v in vectors("sign-vectors.json") {
        let name = v["name"].as_str().unwrap();
        let q = query_of(&v);
        let body = v["body"].as_str().unwrap_or("");
        let ct = v["content_type"].as_str();
        let legacy = v["legacy"].as_bool().unwrap_or(false);
        let secret = v["app_secret"].as_str().unwrap();
        let path = v["path"].as_str().unwrap();
        let base = tts_sandbox::signature::base_string(path, &q, body.as_bytes(), ct, legacy);
        assert_eq!(
            String::from_utf8(base).unwrap(),
            v["base_string"].as_str().unwrap(),
            "base string of {name}"
        );
        let got = tts_sandbox::signature::sign(secret, path, &q, body.as_bytes(), ct, legacy);
        assert_eq!(got, v["sign"].as_str().unwrap(), "sign of {name}");
    }
}

#[test]
fn test_signer_agrees_with_the_vectors_too() {
    for v in vectors("sign-vectors.json")
        .into_iter()
        .filter(|v| !v["legacy"].as_bool().unwrap_or(false))
    {
        let q = query_of(&v);
        let qr: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let multipart = v["content_type"]
            .as_str()
            .is_some_and(|c| c.starts_with("multipart/"));
        let got = common::sign(
            v["app_secret"].as_str().unwrap(),
            v["path"].as_str().unwrap(),
            &qr,
            v["body"].as_str().unwrap_or(""),
            multipart,
        );
        assert_eq!(got, v["sign"].as_str().unwrap(), "{}", v["name"]);
    }
}

#[test]
fn webhook_signature_reproduces_the_webhook_vectors() {
    for v in vectors("webhook-vectors.json") {
        let got = tts_sandbox::signature::webhook_signature(
            v["app_key"].as_str().unwrap(),
            v["app_secret"].as_str().unwrap(),
            v["raw_body"].as_str().unwrap().as_bytes(),
        );
        let valid = v["valid"].as_bool().unwrap();
        assert_eq!(
            got == v["authorization"].as_str().unwrap(),
            valid,
            "{}",
            v["name"]
        );
    }
}
