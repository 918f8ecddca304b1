//! The binary prints exactly one JSON line first (the contract other suites read), and honours flags.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn first_stdout_line_is_the_contract_json() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tts-sandbox"))
        .args([
            "--port",
            "0",
            "--app-key",
            "k123",
            "--app-secret",
            "s456",
            "--rate-limit",
            "off",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).expect("first line is JSON");
    assert!(v["base_url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert_eq!(v["app_key"], "k123");
    assert_eq!(v["app_secret"], "s456");
    assert!(v["service_id"].is_string() && v["redirect_uri"].is_string());
    assert_eq!(v["shops"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_flags_fail_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_tts-sandbox"))
        .args(["--no-such-flag"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown flag --no-such-flag"));
}
