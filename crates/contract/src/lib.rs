//! The TikTok Shop API contract: for every operation of our table, the facts of TikTok's official
//! (OpenAPI-generated) Node SDK, extracted as data into `crates/tiktok/contract/<area>.json` by
//! `scripts/contract-extract.mjs`, with our own recorded decisions (`overrides.json`) applied on top.
//!
//! [`Contract::load`] reads the embedded files; [`check_value`] and [`check_query`] hold a JSON value or
//! a decoded query to an operation's contract and record every divergence with its JSON path
//! (`body.cancel_status`, `data.orders[].id`, `query.page_size`). The TikTok stand-in checks every
//! request it serves and every answer it gives with these; `tts-tiktok`'s contract test checks the
//! operation table, the typed models and `operations.d.ts`.
//!
//! The SDK marks every model field optional, so "required" is only known for query parameters.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// The contract files, embedded (area name, JSON text).
pub const FILES: &[(&str, &str)] = &[
    (
        "authorization",
        include_str!("../../tiktok/contract/authorization.json"),
    ),
    ("event", include_str!("../../tiktok/contract/event.json")),
    (
        "fulfillment",
        include_str!("../../tiktok/contract/fulfillment.json"),
    ),
    ("logistics", include_str!("../../tiktok/contract/logistics.json")),
    ("order", include_str!("../../tiktok/contract/order.json")),
    ("product", include_str!("../../tiktok/contract/product.json")),
    (
        "return_refund",
        include_str!("../../tiktok/contract/return_refund.json"),
    ),
    ("seller", include_str!("../../tiktok/contract/seller.json")),
    ("webhooks", include_str!("../../tiktok/contract/webhooks.json")),
];

/// Our decisions, merged over the extracted facts.
pub const OVERRIDES: &str = include_str!("../../tiktok/contract/overrides.json");

/// Query parameters every signed request carries (spec §1.1); never part of an operation's contract.
pub const COMMON_QUERY: [&str; 3] = ["app_key", "timestamp", "sign"];

/// A JSON type as the contract names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Number,
    Bool,
    List,
    Object,
    /// A multipart file part.
    File,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "string" => Kind::String,
            "number" => Kind::Number,
            "bool" => Kind::Bool,
            "list" => Kind::List,
            "object" => Kind::Object,
            "file" => Kind::File,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Bool => "bool",
            Kind::List => "list",
            Kind::Object => "object",
            Kind::File => "file",
        }
    }

    /// The kind of a JSON value (`None` for `null`).
    pub fn of(value: &Value) -> Option<Kind> {
        Some(match value {
            Value::Null => return None,
            Value::String(_) => Kind::String,
            Value::Number(_) => Kind::Number,
            Value::Bool(_) => Kind::Bool,
            Value::Array(_) => Kind::List,
            Value::Object(_) => Kind::Object,
        })
    }
}

/// The documented shape of one value.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub kind: Kind,
    /// Fields of an object; `None` = an object whose fields the SDK does not describe (any object).
    pub fields: Option<BTreeMap<String, Schema>>,
    /// Item shape of a list.
    pub items: Option<Box<Schema>>,
    /// Only known for query parameters.
    pub required: bool,
    /// Not documented: accepted when read (a shape some source sends), never to be sent
    /// (`"tolerated": true`, set in `overrides.json` with the reason).
    pub tolerated: bool,
}

impl Schema {
    fn parse(v: &Value, at: &str) -> Result<Schema, String> {
        let kind = v["type"]
            .as_str()
            .and_then(Kind::parse)
            .ok_or_else(|| format!("{at}: no valid \"type\""))?;
        let fields = match v.get("fields") {
            Some(Value::Object(m)) => Some(
                m.iter()
                    .map(|(k, f)| Ok((k.clone(), Schema::parse(f, &format!("{at}.{k}"))?)))
                    .collect::<Result<BTreeMap<_, _>, String>>()?,
            ),
            _ => None,
        };
        let items = match (kind, v.get("items")) {
            (Kind::List, Some(i)) => Some(Box::new(Schema::parse(i, &format!("{at}[]"))?)),
            (Kind::List, None) => return Err(format!("{at}: a list without \"items\"")),
            _ => None,
        };
        Ok(Schema {
            kind,
            fields,
            items,
            required: v["required"].as_bool().unwrap_or(false),
            tolerated: v["tolerated"].as_bool().unwrap_or(false),
        })
    }

    /// Number of nodes (this one and everything below).
    pub fn node_count(&self) -> usize {
        1 + self
            .fields
            .iter()
            .flat_map(|f| f.values())
            .map(Schema::node_count)
            .sum::<usize>()
            + self.items.as_ref().map_or(0, |i| i.node_count())
    }

    /// The schema at a dotted path below this one (`orders[].line_items[].sku_id`).
    pub fn at(&self, path: &str) -> Option<&Schema> {
        let mut node = self;
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            let (name, lists) = match seg.find("[]") {
                Some(i) => (&seg[..i], seg[i..].matches("[]").count()),
                None => (seg, 0),
            };
            if !name.is_empty() {
                node = node.fields.as_ref()?.get(name)?;
            }
            for _ in 0..lists {
                node = node.items.as_deref()?;
            }
        }
        Some(node)
    }
}

/// One decision of ours recorded next to the facts.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub path: String,
    pub why: String,
    pub source: String,
}

/// The contract of one operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// Our operation id (`area.action`).
    pub id: String,
    pub method: String,
    pub path: String,
    pub version: String,
    pub newer_versions: Vec<String>,
    pub takes_shop_cipher: bool,
    pub takes_idempotency_key: bool,
    pub query: BTreeMap<String, Schema>,
    pub multipart: Option<BTreeMap<String, Schema>>,
    /// `None`: the operation takes no body.
    pub body: Option<Schema>,
    /// Shape of the envelope's `data`.
    pub response: Schema,
    /// SDK files the facts come from.
    pub sources: Vec<String>,
    pub decisions: Vec<Decision>,
}

/// The contract of one webhook topic (its `data`; the envelope is [`Contract::envelope`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    pub type_code: i64,
    pub event_type: String,
    pub data: Schema,
    pub sources: Vec<String>,
    /// Whole notification bodies published as examples (fixtures).
    pub examples: Vec<Value>,
}

/// Every operation's contract, by id, and every typed webhook's, by `type`.
#[derive(Clone, Debug)]
pub struct Contract {
    pub operations: BTreeMap<String, Operation>,
    pub webhooks: BTreeMap<i64, Webhook>,
    /// `{type, tts_notification_id, shop_id, timestamp, data}`.
    pub envelope: Option<Schema>,
}

impl Contract {
    /// Loads the embedded contract files and applies `overrides.json`.
    pub fn load() -> Result<Contract, String> {
        Self::from_texts(FILES, OVERRIDES)
    }

    /// Loads from given texts (tests use this to check a changed contract).
    pub fn from_texts(files: &[(&str, &str)], overrides: &str) -> Result<Contract, String> {
        let overrides: Value = serde_json::from_str(overrides).map_err(|e| format!("overrides.json: {e}"))?;
        let mut entries: BTreeMap<String, Value> = BTreeMap::new();
        let mut webhooks = BTreeMap::new();
        let mut envelope = None;
        for (area, text) in files {
            let file: Value = serde_json::from_str(text).map_err(|e| format!("{area}.json: {e}"))?;
            if let Some(e) = file.get("envelope") {
                envelope = Some(Schema::parse(e, &format!("{area}.json envelope"))?);
            }
            for (code, w) in file["webhooks"].as_object().into_iter().flatten() {
                let type_code: i64 = code
                    .parse()
                    .map_err(|_| format!("{area}.json: webhook type {code:?} is not a number"))?;
                let hook = Webhook {
                    type_code,
                    event_type: w["event_type"].as_str().unwrap_or("").to_string(),
                    data: Schema::parse(&w["data"], &format!("webhook {code} data"))?,
                    sources: w["source"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect(),
                    examples: w["examples"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|x| x["body"].clone())
                        .collect(),
                };
                webhooks.insert(type_code, hook);
            }
            let ops = file["operations"]
                .as_object()
                .ok_or_else(|| format!("{area}.json: no \"operations\""))?;
            for (id, entry) in ops {
                if entries.insert(id.clone(), entry.clone()).is_some() {
                    return Err(format!("{id}: in two contract files"));
                }
            }
        }
        let mut decisions: BTreeMap<String, Vec<Decision>> = BTreeMap::new();
        if let Some(ops) = overrides["operations"].as_object() {
            for (id, list) in ops {
                let entry = entries
                    .get_mut(id)
                    .ok_or_else(|| format!("overrides.json: {id} is not in the contract"))?;
                for o in list.as_array().into_iter().flatten() {
                    let d = apply_override(id, entry, o)?;
                    decisions.entry(id.clone()).or_default().push(d);
                }
            }
        }
        let mut operations = BTreeMap::new();
        for (id, e) in entries {
            let mut op = parse_operation(&id, &e)?;
            // Decisions baked in by the extractor are replaced by the ones applied here (same list).
            if let Some(d) = decisions.remove(&id) {
                op.decisions = d;
            }
            operations.insert(id, op);
        }
        Ok(Contract {
            operations,
            webhooks,
            envelope,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Operation> {
        self.operations.get(id)
    }

    /// The operation served at `method` + path template.
    pub fn by_route(&self, method: &str, path: &str) -> Option<&Operation> {
        self.operations
            .values()
            .find(|o| o.method == method && o.path == path)
    }
}

/// Applies one override (`path` into the entry, `set` merged there, or put as a whole with
/// `"replace": true`; without `set` it only records the decision).
fn apply_override(id: &str, entry: &mut Value, o: &Value) -> Result<Decision, String> {
    let path = o["path"]
        .as_str()
        .ok_or_else(|| format!("overrides.json: {id}: an override without \"path\""))?;
    let why = o["why"]
        .as_str()
        .filter(|w| !w.trim().is_empty())
        .ok_or_else(|| format!("overrides.json: {id} {path}: every override says why"))?;
    if let Some(set) = o.get("set") {
        let keys: Vec<&str> = path.split('.').collect();
        let mut node = &mut *entry;
        for k in &keys[..keys.len() - 1] {
            node = node
                .get_mut(*k)
                .filter(|n| !n.is_null())
                .ok_or_else(|| format!("overrides.json: {id}: {path} does not exist"))?;
        }
        let last = keys[keys.len() - 1];
        let obj = node
            .as_object_mut()
            .ok_or_else(|| format!("overrides.json: {id}: {path}: parent is not an object"))?;
        if o["replace"].as_bool() == Some(true) {
            obj.insert(last.to_string(), set.clone());
        } else {
            let mut merged = obj.get(last).cloned().unwrap_or(Value::Object(Map::new()));
            match (merged.as_object_mut(), set.as_object()) {
                (Some(m), Some(s)) => {
                    for (k, v) in s {
                        m.insert(k.clone(), v.clone());
                    }
                }
                _ => merged = set.clone(),
            }
            obj.insert(last.to_string(), merged);
        }
    }
    Ok(Decision {
        path: path.to_string(),
        why: why.to_string(),
        source: o["source"].as_str().unwrap_or("").to_string(),
    })
}

fn parse_operation(id: &str, e: &Value) -> Result<Operation, String> {
    let s = |k: &str| {
        e[k].as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{id}: no \"{k}\""))
    };
    let b = |k: &str| e[k].as_bool().ok_or_else(|| format!("{id}: no \"{k}\""));
    let map = |k: &str| -> Result<BTreeMap<String, Schema>, String> {
        e[k].as_object()
            .into_iter()
            .flatten()
            .map(|(n, v)| Ok((n.clone(), Schema::parse(v, &format!("{id} {k}.{n}"))?)))
            .collect()
    };
    let body = match &e["body"] {
        Value::Null => None,
        v => Some(Schema::parse(v, &format!("{id} body"))?),
    };
    let response = match &e["response"] {
        Value::Null => Schema {
            kind: Kind::Object,
            fields: None,
            items: None,
            required: false,
            tolerated: false,
        },
        v => Schema::parse(v, &format!("{id} response"))?,
    };
    Ok(Operation {
        id: id.to_string(),
        method: s("method")?,
        path: s("path")?,
        version: s("version")?,
        newer_versions: e["newer_versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        takes_shop_cipher: b("takes_shop_cipher")?,
        takes_idempotency_key: b("takes_idempotency_key")?,
        query: map("query")?,
        multipart: e.get("multipart").map(|_| map("multipart")).transpose()?,
        body,
        response,
        sources: e["source"]["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        decisions: e["decisions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| Decision {
                path: d["path"].as_str().unwrap_or("").to_string(),
                why: d["why"].as_str().unwrap_or("").to_string(),
                source: d["source"].as_str().unwrap_or("").to_string(),
            })
            .collect(),
    })
}

/// One way what was sent or answered differs from the contract.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Divergence {
    pub operation: String,
    /// JSON path: `body.cancel_status`, `data.orders[].id`, `query.page_size`.
    pub path: String,
    pub problem: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.operation, self.path, self.problem)
    }
}

/// Divergences found and how many contract nodes were compared.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub fields_checked: usize,
    pub divergences: Vec<Divergence>,
}

impl Report {
    pub fn push(&mut self, operation: &str, path: impl Into<String>, problem: impl Into<String>) {
        self.divergences.push(Divergence {
            operation: operation.to_string(),
            path: path.into(),
            problem: problem.into(),
        });
    }

    pub fn merge(&mut self, other: Report) {
        self.fields_checked += other.fields_checked;
        self.divergences.extend(other.divergences);
    }

    pub fn is_clean(&self) -> bool {
        self.divergences.is_empty()
    }
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Holds `value` (at JSON path `path`) to `schema`: a field the contract lacks, or a value of another
/// JSON type than documented, is a divergence. `null` counts as absent (every model field is optional).
pub fn check_value(op: &str, schema: &Schema, value: &Value, path: &str, report: &mut Report) {
    report.fields_checked += 1;
    let Some(actual) = Kind::of(value) else {
        return;
    };
    if actual != schema.kind {
        let (a, e) = (actual.as_str(), schema.kind.as_str());
        report.push(
            op,
            path,
            format!(
                "{} {a} where the contract documents {} {e}",
                article(a),
                article(e)
            ),
        );
        return;
    }
    match value {
        Value::Array(items) => {
            if let Some(item) = schema.items.as_deref() {
                let p = format!("{path}[]");
                for v in items {
                    check_value(op, item, v, &p, report);
                }
            }
        }
        Value::Object(map) => {
            let Some(fields) = &schema.fields else { return };
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match fields.get(k) {
                    Some(f) if f.tolerated => report.push(
                        op,
                        p,
                        "a field the contract only tolerates on read (overrides.json), never sent",
                    ),
                    Some(f) => check_value(op, f, v, &p, report),
                    None => report.push(op, p, "a field the contract lacks"),
                }
            }
        }
        _ => {}
    }
}

/// Holds a request's decoded query (as the server sees it) to the contract: parameters the contract
/// lacks, `shop_cipher` / `idempotency_key` where the operation takes none, missing required
/// parameters, and values that cannot be of the documented type.
pub fn check_query(op: &Operation, query: &[(String, String)], report: &mut Report) {
    for (k, v) in query {
        report.fields_checked += 1;
        let p = format!("query.{k}");
        if COMMON_QUERY.contains(&k.as_str()) {
            continue;
        }
        match k.as_str() {
            "shop_cipher" if op.takes_shop_cipher => continue,
            "shop_cipher" => {
                report.push(&op.id, p, "shop_cipher sent, the operation does not take it");
                continue;
            }
            "idempotency_key" if op.takes_idempotency_key => continue,
            "idempotency_key" => {
                report.push(&op.id, p, "idempotency_key sent, the operation does not take one");
                continue;
            }
            "access_token" => {
                report.push(
                    &op.id,
                    p,
                    "the access token belongs in the x-tts-access-token header",
                );
                continue;
            }
            _ => {}
        }
        let Some(schema) = op.query.get(k) else {
            report.push(&op.id, p, "a query parameter the contract lacks");
            continue;
        };
        let ok = match schema.kind {
            Kind::Number => v.trim().parse::<f64>().is_ok(),
            Kind::Bool => v == "true" || v == "false",
            _ => true,
        };
        if !ok {
            report.push(
                &op.id,
                p,
                format!(
                    "{v:?} is not {} {}",
                    article(schema.kind.as_str()),
                    schema.kind.as_str()
                ),
            );
        }
    }
    for (k, schema) in &op.query {
        if schema.required && !query.iter().any(|(q, _)| q == k) {
            report.fields_checked += 1;
            report.push(
                &op.id,
                format!("query.{k}"),
                "a required query parameter is missing",
            );
        }
    }
}

/// Holds a request body to the contract (`bytes` as sent; empty = no body).
pub fn check_body(op: &Operation, bytes: &[u8], report: &mut Report) {
    let empty = bytes.iter().all(u8::is_ascii_whitespace);
    match (&op.body, empty) {
        (_, true) => {}
        (None, false) => report.push(&op.id, "body", "a body sent, the operation takes none"),
        (Some(schema), false) => match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => check_value(&op.id, schema, &v, "body", report),
            Err(e) => report.push(&op.id, "body", format!("not JSON: {e}")),
        },
    }
}

/// A value with every documented field filled with a value of its type (strings are digit strings, so
/// they also read as ids and amounts; numbers are 1; lists hold one item). Tolerated fields are left out.
pub fn sample(schema: &Schema) -> Value {
    match schema.kind {
        Kind::String | Kind::File => Value::String("1".into()),
        Kind::Number => Value::from(1),
        Kind::Bool => Value::Bool(true),
        Kind::List => Value::Array(schema.items.as_deref().map(sample).into_iter().collect()),
        Kind::Object => Value::Object(
            schema
                .fields
                .iter()
                .flatten()
                .filter(|(_, f)| !f.tolerated)
                .map(|(k, f)| (k.clone(), sample(f)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        Contract::load().unwrap()
    }

    #[test]
    fn loads_every_file_and_applies_overrides() {
        let c = contract();
        assert!(c.operations.len() >= 50, "{}", c.operations.len());
        let op = c.get("orders.search").unwrap();
        assert_eq!(op.method, "POST");
        assert!(op.query["page_size"].required);
        assert!(c.by_route("POST", "/order/202309/orders/search").is_some());
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_divergences_with_their_path() {
        let c = contract();
        let op = c.get("returns.search").unwrap();
        let mut r = Report::default();
        let body = json!({ "return_status": "X", "order_ids": ["1"], "nope": 1, "create_time_ge": "5" });
        check_value(&op.id, op.body.as_ref().unwrap(), &body, "body", &mut r);
        let got: Vec<String> = r.divergences.iter().map(|d| d.to_string()).collect();
        assert!(
            got.contains(
                &"returns.search body.return_status: a string where the contract documents a list".into()
            ),
            "{got:?}"
        );
        assert!(got.contains(&"returns.search body.nope: a field the contract lacks".into()));
        assert!(got.contains(
            &"returns.search body.create_time_ge: a string where the contract documents a number".into()
        ));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn query_checks_cipher_key_required_and_types() {
        let c = contract();
        let op = c.get("orders.search").unwrap();
        let q = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        let mut r = Report::default();
        check_query(
            op,
            &q(&[
                ("app_key", "a"),
                ("page_size", "x"),
                ("idempotency_key", "k"),
                ("foo", "1"),
            ]),
            &mut r,
        );
        let paths: Vec<&str> = r.divergences.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["query.page_size", "query.idempotency_key", "query.foo"]);
        let mut r = Report::default();
        check_query(op, &q(&[("shop_cipher", "c")]), &mut r);
        assert_eq!(r.divergences[0].problem, "a required query parameter is missing");
    }

    #[test]
    fn a_sample_holds_to_its_own_schema() {
        for op in contract().operations.values() {
            let mut r = Report::default();
            check_value(&op.id, &op.response, &sample(&op.response), "data", &mut r);
            if let Some(b) = &op.body {
                check_value(&op.id, b, &sample(b), "body", &mut r);
            }
            assert!(r.is_clean(), "{:?}", r.divergences);
        }
    }

    #[test]
    fn an_override_must_say_why_and_name_an_existing_path() {
        let o = r#"{"operations":{"orders.search":[{"path":"body.fields.x","set":{"type":"string"}}]}}"#;
        assert!(Contract::from_texts(FILES, o).unwrap_err().contains("says why"));
        let o = r#"{"operations":{"orders.search":[{"path":"nope.fields.x","set":{"type":"string"},"why":"w"}]}}"#;
        assert!(
            Contract::from_texts(FILES, o)
                .unwrap_err()
                .contains("does not exist")
        );
        let o = r#"{"operations":{"orders.search":[{"path":"body.fields.x","set":{"type":"string"},"why":"w"}]}}"#;
        let c = Contract::from_texts(FILES, o).unwrap();
        let op = c.get("orders.search").unwrap();
        assert_eq!(op.body.as_ref().unwrap().at("x").unwrap().kind, Kind::String);
        assert_eq!(op.decisions[0].why, "w");
    }
}
