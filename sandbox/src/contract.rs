//! Holds every request the sandbox serves and every `data` it answers to the API contract extracted
//! from TikTok's official SDK (`crates/tiktok/contract/*.json` + `overrides.json`, via `tts-contract`):
//! query parameters and JSON bodies as the client sent them, answers as the handlers built them.
//!
//! A divergence never fails the request: it is recorded (operation, JSON path, problem, how often) and
//! read through `GET /_sandbox/contract`, cleared with `DELETE /_sandbox/contract`. The end-to-end
//! suites assert the list is empty when they end, so a client, an engine or a handler that leaves the
//! contract fails a test that names the operation and the path.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};
use tts_contract::{Contract, Divergence, Operation, Report};

use crate::routes::OPS;

/// The contract, loaded once per process.
pub fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(|| Contract::load().expect("the embedded API contract loads"))
}

/// The contract entry of each sandbox operation (by index into [`OPS`]).
fn index() -> &'static [Option<&'static Operation>] {
    static I: OnceLock<Vec<Option<&'static Operation>>> = OnceLock::new();
    I.get_or_init(|| {
        OPS.iter()
            .map(|op| contract().by_route(op.method, op.path))
            .collect()
    })
}

#[derive(Default)]
struct Log {
    requests: u64,
    responses: u64,
    fields: u64,
    found: BTreeMap<Divergence, u64>,
}

/// What the checker found since start (or the last clear).
pub struct ContractCheck {
    enabled: AtomicBool,
    log: Mutex<Log>,
}

impl ContractCheck {
    pub fn new(enabled: bool) -> Self {
        ContractCheck {
            enabled: AtomicBool::new(enabled),
            log: Mutex::new(Log::default()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Relaxed)
    }

    fn op(&self, op_idx: usize, r: &mut Report) -> Option<&'static Operation> {
        let found = index().get(op_idx).copied().flatten();
        if found.is_none() {
            let o = &OPS[op_idx];
            r.push(
                &o.name(),
                "",
                "the sandbox serves an operation the contract lacks",
            );
        }
        found
    }

    /// Checks what a client sent: the decoded query and the body (JSON, or the names of multipart parts).
    pub fn request(
        &self,
        op_idx: usize,
        query: &[(String, String)],
        content_type: Option<&str>,
        body: &[u8],
    ) {
        if !self.enabled() {
            return;
        }
        let mut r = Report::default();
        if let Some(op) = self.op(op_idx, &mut r) {
            tts_contract::check_query(op, query, &mut r);
            if crate::signature::is_multipart(content_type) {
                check_multipart(op, content_type, body, &mut r);
            } else {
                tts_contract::check_body(op, body, &mut r);
            }
        }
        self.record(r, true);
    }

    /// Checks the `data` of a successful answer.
    pub fn response(&self, op_idx: usize, data: &Value) {
        if !self.enabled() {
            return;
        }
        let mut r = Report::default();
        if let Some(op) = self.op(op_idx, &mut r) {
            tts_contract::check_value(&op.id, &op.response, data, "data", &mut r);
        }
        self.record(r, false);
    }

    /// Like [`response`](Self::response) for an answer the handler serialized itself.
    pub fn response_raw(&self, op_idx: usize, raw: &str) {
        if !self.enabled() {
            return;
        }
        match serde_json::from_str::<Value>(raw) {
            Ok(v) => self.response(op_idx, &v),
            Err(e) => {
                let mut r = Report::default();
                let name = index()
                    .get(op_idx)
                    .copied()
                    .flatten()
                    .map_or_else(|| OPS[op_idx].name(), |o| o.id.clone());
                r.push(&name, "data", format!("not JSON: {e}"));
                self.record(r, false);
            }
        }
    }

    /// Checks the `data` of a webhook the sandbox is about to deliver (topics the contract types).
    pub fn webhook(&self, type_code: u32, data: &Value) {
        if !self.enabled() {
            return;
        }
        let Some(hook) = contract().webhooks.get(&i64::from(type_code)) else {
            return;
        };
        let mut r = Report::default();
        let name = format!("webhook {} {}", hook.type_code, hook.event_type);
        tts_contract::check_value(&name, &hook.data, data, "data", &mut r);
        self.record(r, false);
    }

    fn record(&self, r: Report, request: bool) {
        let mut log = self.log.lock().expect("contract log");
        if request {
            log.requests += 1;
        } else {
            log.responses += 1;
        }
        log.fields += r.fields_checked as u64;
        for d in r.divergences {
            *log.found.entry(d).or_default() += 1;
        }
    }

    /// Every divergence found (each once, with how often it was seen).
    pub fn divergences(&self) -> Vec<(Divergence, u64)> {
        let log = self.log.lock().expect("contract log");
        log.found.iter().map(|(d, n)| (d.clone(), *n)).collect()
    }

    pub fn clear(&self) {
        *self.log.lock().expect("contract log") = Log::default();
    }

    /// `GET /_sandbox/contract`.
    pub fn to_json(&self) -> Value {
        let log = self.log.lock().expect("contract log");
        json!({
            "enabled": self.enabled(),
            "operations": contract().operations.len(),
            "requests_checked": log.requests,
            "responses_checked": log.responses,
            "fields_checked": log.fields,
            "divergences": log.found.iter().map(|(d, n)| json!({
                "operation": d.operation, "path": d.path, "problem": d.problem, "count": n,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Names of the parts of a multipart body must be documented (`multipart.<name>`).
fn check_multipart(op: &Operation, content_type: Option<&str>, body: &[u8], r: &mut Report) {
    let Some(parts) = &op.multipart else {
        r.push(
            &op.id,
            "multipart",
            "a multipart body sent, the operation takes none",
        );
        return;
    };
    let boundary = content_type
        .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("boundary=")))
        .map(|b| b.trim_matches('"'));
    let Some(boundary) = boundary else { return };
    let text = String::from_utf8_lossy(body);
    for part in text.split(&format!("--{boundary}")) {
        let Some(name) = part
            .split("\r\n\r\n")
            .next()
            .and_then(|head| head.split("name=\"").nth(1))
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        r.fields_checked += 1;
        if !parts.contains_key(name) {
            r.push(
                &op.id,
                format!("multipart.{name}"),
                "a multipart part the contract lacks",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sandbox_operation_has_a_contract_entry() {
        for (i, op) in OPS.iter().enumerate() {
            assert!(index()[i].is_some(), "{} has no contract entry", op.name());
        }
    }

    #[test]
    fn divergences_are_recorded_once_with_a_count() {
        let c = ContractCheck::new(true);
        let i = OPS
            .iter()
            .position(|o| o.path == "/return_refund/202309/returns/search")
            .unwrap();
        let q = vec![("page_size".to_string(), "10".to_string())];
        for _ in 0..2 {
            c.request(i, &q, Some("application/json"), br#"{"return_status":"X","x":1}"#);
        }
        let found: Vec<String> = c.divergences().iter().map(|(d, n)| format!("{d} x{n}")).collect();
        assert_eq!(
            found,
            [
                "returns.search body.return_status: a string where the contract documents a list x2",
                "returns.search body.x: a field the contract lacks x2",
            ]
        );
        c.clear();
        assert!(c.divergences().is_empty());
        c.webhook(
            11,
            &json!({ "order_id": "1", "cancel_state": "X", "create_time": "5" }),
        );
        let found: Vec<String> = c.divergences().iter().map(|(d, _)| d.to_string()).collect();
        assert_eq!(
            found,
            [
                "webhook 11 CANCELLATION_STATUS_CHANGE data.cancel_state: a field the contract lacks",
                "webhook 11 CANCELLATION_STATUS_CHANGE data.create_time: a string where the contract documents a number",
            ]
        );
    }
}
