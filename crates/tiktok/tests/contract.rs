//! The API contract test (issue 12): the operation table, the typed models and `operations.d.ts` held to
//! the contract extracted from TikTok's official SDK (`crates/tiktok/contract/*.json` + `overrides.json`,
//! loaded by `tts-contract`). Every divergence names the operation and the JSON path.
//!
//! The stand-in holds what our engines send and what it answers to the same contract on every request
//! (`GET /_sandbox/contract`); the end-to-end suites of `tts-sync` assert it found nothing.

mod dts;
mod trace;

use dts::{Dts, Ts};
use tts_contract::{Contract, Kind, Report, Schema};
use tts_tiktok::operations::{BodyKind, KeyLocation, OPERATIONS, Operation, RetrySafety, ShopCipher};

fn load() -> Contract {
    Contract::load().expect("the contract files load")
}

/// Counts one compared fact and records a divergence when `same` is false.
fn expect(report: &mut Report, op: &str, path: &str, same: bool, problem: impl FnOnce() -> String) {
    report.fields_checked += 1;
    if !same {
        report.push(op, path, problem());
    }
}

/// (1) Every table operation has a contract entry that agrees on method, path, version, `shop_cipher`,
/// where the idempotency key goes, the body kind and pagination; every contract entry is in the table.
fn check_table(c: &Contract, table: &[Operation]) -> Report {
    let mut r = Report::default();
    for op in table {
        let id = op.id;
        let Some(k) = c.get(id) else {
            r.fields_checked += 1;
            r.push(id, "", "no contract entry for this operation of the table");
            continue;
        };
        expect(&mut r, id, "method", k.method == op.method.as_str(), || {
            format!("table {} vs contract {}", op.method.as_str(), k.method)
        });
        expect(&mut r, id, "path", k.path == op.path, || {
            format!("table {} vs contract {}", op.path, k.path)
        });
        expect(&mut r, id, "version", k.version == op.version(), || {
            format!("table {} vs contract {}", op.version(), k.version)
        });
        let takes = op.shop_cipher == ShopCipher::Takes;
        expect(
            &mut r,
            id,
            "takes_shop_cipher",
            k.takes_shop_cipher == takes,
            || format!("table {takes} vs contract {}", k.takes_shop_cipher),
        );
        let in_query = op.retry == RetrySafety::WithIdempotencyKey(KeyLocation::Query);
        expect(
            &mut r,
            id,
            "takes_idempotency_key",
            k.takes_idempotency_key == in_query,
            || {
                format!(
                    "table {} vs contract {} (query idempotency_key)",
                    if in_query { "sends it" } else { "does not send it" },
                    if k.takes_idempotency_key {
                        "takes it"
                    } else {
                        "takes none"
                    }
                )
            },
        );
        if op.retry == RetrySafety::WithIdempotencyKey(KeyLocation::Body) {
            let field = k.body.as_ref().and_then(|b| b.at("idempotency_key"));
            expect(
                &mut r,
                id,
                "body.idempotency_key",
                field.is_some_and(|f| f.kind == tts_contract::Kind::String),
                || {
                    "the table puts the idempotency key in the body; the contract has no string field there"
                        .into()
                },
            );
        }
        let kind = match (&k.body, &k.multipart) {
            (Some(_), _) => BodyKind::Json,
            (None, Some(_)) => BodyKind::Multipart,
            (None, None) => BodyKind::None,
        };
        expect(&mut r, id, "body", kind == op.body, || {
            format!("table {:?} vs contract {kind:?}", op.body)
        });
        let pages = k.query.contains_key("page_size");
        expect(
            &mut r,
            id,
            "query.page_size",
            pages == op.page_size.is_some(),
            || {
                format!(
                    "table {} page_size bounds, contract {} page_size",
                    if op.page_size.is_some() { "has" } else { "has no" },
                    if pages { "takes" } else { "takes no" }
                )
            },
        );
    }
    for id in c.operations.keys() {
        r.fields_checked += 1;
        if !table.iter().any(|o| o.id == id) {
            r.push(id, "", "a contract entry for an operation the table lacks");
        }
    }
    r
}

/// Which side of an operation a model is.
#[derive(Clone, Copy)]
enum Side {
    /// The `data` of the answer (read by the model).
    Data,
    /// The JSON body (written by the model).
    Body,
}

/// Documented values for closed enums of request models (spec §8: `save_mode` AS_DRAFT / LISTING).
const ENUM_SAMPLES: &[(&str, &str)] = &[("save_mode", "LISTING")];

/// (3) A full sample of the documented shape at `at` (every field, each with a value of its type) reads
/// with model `T`, and what `T` makes of it serializes back into the documented shape: no field the
/// contract lacks (a misnamed field), no value of another JSON type.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    c: &Contract,
    op: &str,
    side: Side,
    at: &str,
    r: &mut Report,
) {
    let Some(k) = c.get(op) else {
        r.push(op, "", "no contract entry");
        return;
    };
    let (root, prefix) = match side {
        Side::Data => (Some(&k.response), "data"),
        Side::Body => (k.body.as_ref(), "body"),
    };
    let path = if at.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{at}")
    };
    let Some(schema) = root.and_then(|s| s.at(at)) else {
        r.push(op, path, "the contract has no such shape for this model");
        return;
    };
    let mut sample = tts_contract::sample(schema);
    // Closed enums of our write models take one of their documented values (the sample's "1" is none).
    for (field, value) in ENUM_SAMPLES {
        if let Some(v) = sample.get_mut(*field) {
            *v = serde_json::Value::String(value.to_string());
        }
    }
    r.fields_checked += schema.node_count();
    let model: T = match serde_path_to_error::deserialize(&sample) {
        Ok(m) => m,
        Err(e) => {
            r.push(
                op,
                format!("{path}.{}", e.path()),
                format!("{} cannot read it: {}", std::any::type_name::<T>(), e.inner()),
            );
            return;
        }
    };
    let back = serde_json::to_value(&model).expect("models serialize");
    tts_contract::check_value(op, schema, &back, &path, r);
    let name = std::any::type_name::<T>().rsplit("::").next().unwrap_or("model");
    let shape = trace::shape_of::<T>();
    compare_shape(name, op, &shape, schema, &path, matches!(side, Side::Data), r);
}

/// The fields model `model` reads or writes (every one, optional ones too, learnt from its
/// `Deserialize`) against the documented shape: each must be documented, with the same JSON type
/// where the model is strict about it.
fn compare_shape(
    model: &str,
    op: &str,
    t: &trace::Shape,
    s: &Schema,
    path: &str,
    reading: bool,
    r: &mut Report,
) {
    use trace::Shape;
    r.fields_checked += 1;
    let kind = match t {
        Shape::Any => return,
        Shape::Str => Kind::String,
        Shape::Num => Kind::Number,
        Shape::Bool => Kind::Bool,
        Shape::List(_) => Kind::List,
        Shape::Obj(_) => Kind::Object,
    };
    if kind != s.kind {
        r.push(
            op,
            path,
            format!(
                "{model} has a {} where the contract documents a {}",
                kind.as_str(),
                s.kind.as_str()
            ),
        );
        return;
    }
    match t {
        Shape::List(item) => {
            if let Some(i) = s.items.as_deref() {
                compare_shape(model, op, item, i, &format!("{path}[]"), reading, r);
            }
        }
        Shape::Obj(fields) => {
            let Some(documented) = &s.fields else { return };
            for (k, ft) in fields {
                let p = format!("{path}.{k}");
                match documented.get(*k) {
                    Some(fs) if fs.tolerated && !reading => r.push(
                        op,
                        p,
                        format!("{model} sends a field the contract only tolerates on read"),
                    ),
                    Some(fs) => compare_shape(model, op, ft, fs, &p, reading, r),
                    None if SHARED_MODEL_FIELDS.iter().any(|(o, f, _)| *o == op && *f == p) => {}
                    None => r.push(op, p, format!("{model} has a field the contract lacks")),
                }
            }
        }
        _ => {}
    }
}

/// Fields of a model shared by two operations that only one of them documents. The model leaves them
/// empty for the other (serialized only when set), and the stand-in checks every body the engines
/// send, so setting one on the wrong operation fails the end-to-end suites.
const SHARED_MODEL_FIELDS: &[(&str, &str, &str)] = &[
    (
        "products.create",
        "body.skus[].id",
        "ProductRequest serves create and edit; SKU ids exist only on edit (the mapper sets them from the store)",
    ),
    (
        "products.edit",
        "body.idempotency_key",
        "ProductRequest serves create and edit; the engine clears the key before an edit",
    ),
];

fn check_models(c: &Contract) -> Report {
    use tts_tiktok::model::{inventory, order, price, product};
    let mut r = Report::default();
    // answers
    round_trip::<order::OrderDetailResponse>(c, "orders.get", Side::Data, "", &mut r);
    round_trip::<order::Order>(c, "orders.search", Side::Data, "orders[]", &mut r);
    round_trip::<product::ProductWriteResponse>(c, "products.create", Side::Data, "", &mut r);
    round_trip::<product::ProductWriteResponse>(c, "products.edit", Side::Data, "", &mut r);
    round_trip::<product::CategoryAttributes>(c, "categories.attributes", Side::Data, "", &mut r);
    // bodies
    round_trip::<product::ProductRequest>(c, "products.create", Side::Body, "", &mut r);
    round_trip::<product::ProductRequest>(c, "products.edit", Side::Body, "", &mut r);
    round_trip::<product::ProductPartialEdit>(c, "products.partial_edit", Side::Body, "", &mut r);
    round_trip::<inventory::InventoryUpdateRequest>(c, "inventory.update", Side::Body, "", &mut r);
    round_trip::<price::PriceUpdateRequest>(c, "prices.update", Side::Body, "", &mut r);
    r
}

fn ts_name(t: &Ts) -> &'static str {
    match t {
        Ts::Str => "a string",
        Ts::Num => "a number",
        Ts::Bool => "a bool",
        Ts::List(_) => "a list",
        Ts::Obj(_) => "an object",
        Ts::Never => "never",
        Ts::Unknown => "unknown",
    }
}

/// A TypeScript shape against the documented one: every typed field must be documented, with a
/// compatible JSON type (what the d.ts leaves `unknown` is not compared).
fn compare_ts(op: &str, t: &Ts, s: &Schema, path: &str, reading: bool, r: &mut Report) {
    r.fields_checked += 1;
    let same = match (t, s.kind) {
        (Ts::Unknown | Ts::Never, _) => true,
        (Ts::Str, Kind::String) | (Ts::Num, Kind::Number) | (Ts::Bool, Kind::Bool) => true,
        (Ts::List(item), Kind::List) => {
            if let Some(i) = s.items.as_deref() {
                compare_ts(op, item, i, &format!("{path}[]"), reading, r);
            }
            true
        }
        (Ts::Obj(fields), Kind::Object) => {
            if let Some(documented) = &s.fields {
                for (k, ft) in fields {
                    let p = format!("{path}.{k}");
                    match documented.get(k) {
                        Some(fs) if fs.tolerated && !reading => r.push(
                            op,
                            p,
                            "operations.d.ts lets callers send a field the contract only tolerates on read",
                        ),
                        Some(fs) => compare_ts(op, ft, fs, &p, reading, r),
                        None => r.push(op, p, "operations.d.ts types a field the contract lacks"),
                    }
                }
            }
            true
        }
        _ => false,
    };
    if !same {
        r.push(
            op,
            path,
            format!(
                "operations.d.ts types {} where the contract documents {} {}",
                ts_name(t),
                if s.kind == Kind::Object { "an" } else { "a" },
                s.kind.as_str()
            ),
        );
    }
}

/// (6) `operations.d.ts`: the same operations as the table, and each operation's query, body and
/// response typed with the contract's field names and JSON types.
fn check_dts(c: &Contract, table: &[Operation], text: &str) -> Report {
    let d = Dts::parse(text);
    let mut r = Report::default();
    let entries: std::collections::BTreeMap<String, String> =
        d.interface_members("OperationTypes").into_iter().collect();
    for op in table {
        r.fields_checked += 1;
        if !entries.contains_key(op.id) {
            r.push(
                op.id,
                "operations.d.ts",
                "the table's operation is not in OperationTypes",
            );
        }
    }
    for (id, entry) in &entries {
        r.fields_checked += 1;
        if !table.iter().any(|o| o.id == id) {
            r.push(id, "operations.d.ts", "an OperationTypes entry the table lacks");
            continue;
        }
        let Some(k) = c.get(id) else { continue };
        let parts: std::collections::BTreeMap<String, String> =
            dts::members(entry.trim().trim_start_matches('{').trim_end_matches('}'))
                .into_iter()
                .collect();
        let part = |name: &str| parts.get(name).map(String::as_str).unwrap_or("never");
        // query
        if let Ts::Obj(fields) = d.resolve(part("query")) {
            for (name, t) in fields {
                r.fields_checked += 1;
                let p = format!("query.{name}");
                match k.query.get(&name) {
                    None => r.push(
                        id,
                        p,
                        "operations.d.ts types a query parameter the contract lacks",
                    ),
                    // `Unknown`: e.g. `Id | Id[]`, one id or several (the client joins a list).
                    Some(s) if t != Ts::Unknown && (s.kind == Kind::List) != matches!(t, Ts::List(_)) => r
                        .push(
                            id,
                            p,
                            format!(
                                "operations.d.ts types {} where the contract documents a {}",
                                ts_name(&t),
                                s.kind.as_str()
                            ),
                        ),
                    Some(_) => {}
                }
            }
        }
        // body
        let body = part("body");
        r.fields_checked += 1;
        if let Some(form) = body.strip_prefix("Multipart<").and_then(|b| b.strip_suffix('>')) {
            match &k.multipart {
                None => r.push(
                    id,
                    "body",
                    "operations.d.ts types a multipart body; the contract has none",
                ),
                Some(documented) => {
                    for (name, _) in dts::members(form.trim().trim_start_matches('{').trim_end_matches('}')) {
                        r.fields_checked += 1;
                        if !documented.contains_key(&name) {
                            r.push(
                                id,
                                format!("multipart.{name}"),
                                "operations.d.ts types a part the contract lacks",
                            );
                        }
                    }
                }
            }
        } else {
            match (d.resolve(body), &k.body) {
                (Ts::Never, None) => {}
                (Ts::Never, Some(_)) if k.multipart.is_none() => r.push(
                    id,
                    "body",
                    "operations.d.ts types no body; the contract documents one",
                ),
                (t, Some(s)) => compare_ts(id, &t, s, "body", false, &mut r),
                (Ts::Unknown, None) => {}
                (_, None) => r.push(
                    id,
                    "body",
                    "operations.d.ts types a body; the contract documents none",
                ),
            }
        }
        // response
        compare_ts(
            id,
            &d.resolve(part("response")),
            &k.response,
            "data",
            true,
            &mut r,
        );
    }
    r
}

/// The typed payload of a parsed notification: its fields we model (learnt from the default value) and
/// what it left unread (`other`).
fn typed_fields(event: &tts_tiktok::webhook::Event) -> Option<(Vec<String>, Vec<String>)> {
    use tts_tiktok::webhook::{self as w, Event};
    fn split<T: serde::Serialize + Default>(
        other: &serde_json::Map<String, serde_json::Value>,
    ) -> (Vec<String>, Vec<String>) {
        let own = serde_json::to_value(T::default()).expect("serializes");
        let names = own
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        (names, other.keys().cloned().collect())
    }
    Some(match event {
        Event::OrderStatusChange(e) => split::<w::OrderStatusChange>(&e.other),
        Event::RecipientAddressUpdate(e) => split::<w::RecipientAddressUpdate>(&e.other),
        Event::PackageUpdate(e) => split::<w::PackageUpdate>(&e.other),
        Event::ProductStatusChange(e) => split::<w::ProductStatusChange>(&e.other),
        Event::SellerDeauthorization(e) => split::<w::SellerDeauthorization>(&e.other),
        Event::UpcomingAuthorizationExpiration(e) => split::<w::UpcomingAuthorizationExpiration>(&e.other),
        Event::CancellationStatusChange(e) => split::<w::CancellationStatusChange>(&e.other),
        Event::ReturnStatusChange(e) => split::<w::ReturnStatusChange>(&e.other),
        Event::ProductAuditStatusChange(e) => {
            let (mut names, other) = split::<w::ProductAuditStatusChange>(&e.other);
            names.push("audit_failed_reasons".into()); // skipped when empty in the default
            (names, other)
        }
        Event::Documented(_) | Event::Unknown(_) => return None,
    })
}

/// (12.5) Every topic the webhook parser types has a contract entry; a full sample of its documented
/// `data` parses into the typed payload, leaving no documented field unread; every field the payload
/// has is documented; the published examples parse and hold to the contract.
fn check_webhooks(c: &Contract) -> Report {
    use tts_tiktok::webhook::{parse, topic_name};
    let mut r = Report::default();
    let envelope = |type_code: i64, data: serde_json::Value| {
        serde_json::json!({
            "type": type_code, "tts_notification_id": "1", "shop_id": "1", "timestamp": 1, "data": data,
        })
    };
    // Which topics the parser types: those whose data does not come back raw.
    for (code, name) in tts_tiktok::webhook::TOPICS {
        let n = parse(envelope(*code, serde_json::json!({})).to_string().as_bytes()).unwrap();
        let typed = typed_fields(&n.event).is_some();
        r.fields_checked += 1;
        match (typed, c.webhooks.get(code)) {
            (true, None) => r.push(
                &format!("webhook {code} {name}"),
                "",
                "typed by the parser, no contract entry",
            ),
            (false, Some(_)) => r.push(
                &format!("webhook {code} {name}"),
                "",
                "a contract entry the parser does not type",
            ),
            _ => {}
        }
    }
    for (code, hook) in &c.webhooks {
        let op = format!("webhook {code} {}", hook.event_type);
        r.fields_checked += 1;
        if topic_name(*code) != hook.event_type {
            r.push(
                &op,
                "event_type",
                format!("the parser names it {}", topic_name(*code)),
            );
        }
        let sample = tts_contract::sample(&hook.data);
        r.fields_checked += hook.data.node_count();
        let n = match parse(envelope(*code, sample).to_string().as_bytes()) {
            Ok(n) => n,
            Err(e) => {
                r.push(&op, "data", format!("a full sample does not parse: {e}"));
                continue;
            }
        };
        let Some((names, unread)) = typed_fields(&n.event) else {
            continue;
        };
        for k in unread {
            r.push(
                &op,
                format!("data.{k}"),
                "documented, but the parser leaves it unread (kept in `other`)",
            );
        }
        let documented = hook.data.fields.as_ref();
        for k in names.iter().filter(|k| *k != "other") {
            r.fields_checked += 1;
            if !documented.is_some_and(|f| f.contains_key(k)) {
                r.push(
                    &op,
                    format!("data.{k}"),
                    "the parser reads a field the contract lacks",
                );
            }
        }
        let back = serde_json::to_value(&n.event).expect("serializes");
        tts_contract::check_value(&op, &hook.data, &back, "data", &mut r);
        for example in &hook.examples {
            if let Some(env) = &c.envelope {
                tts_contract::check_value(&op, env, example, "", &mut r);
            }
            tts_contract::check_value(&op, &hook.data, &example["data"], "data", &mut r);
            match parse(example.to_string().as_bytes()) {
                Ok(n) if n.type_code == *code && typed_fields(&n.event).is_some() => {}
                Ok(_) => r.push(
                    &op,
                    "",
                    "the published example does not parse into its typed payload",
                ),
                Err(e) => r.push(&op, "", format!("the published example does not parse: {e}")),
            }
        }
    }
    r
}

fn fail_unless_clean(what: &str, r: &Report) {
    let list: Vec<String> = r.divergences.iter().map(|d| format!("  {d}")).collect();
    assert!(
        r.is_clean(),
        "{what}: {} divergences\n{}",
        list.len(),
        list.join("\n")
    );
}

#[test]
fn every_operation_holds_to_the_contract() {
    let c = load();
    let mut total = Report::default();
    total.merge(check_table(&c, OPERATIONS));
    total.merge(check_models(&c));
    let dts = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../operations.d.ts")).unwrap();
    total.merge(check_dts(&c, OPERATIONS, &dts));
    total.merge(check_webhooks(&c));
    let n = OPERATIONS.len();
    println!(
        "contract: {n} operations, {} fields checked, {} divergences ({} webhook types)",
        total.fields_checked,
        total.divergences.len(),
        c.webhooks.len()
    );
    fail_unless_clean("contract", &total);
}

/// The table check sees a changed method, path, cipher or key location, and a missing entry.
#[test]
fn the_table_check_finds_a_broken_entry() {
    let c = load();
    let mut table: Vec<Operation> = OPERATIONS.to_vec();
    let i = table.iter().position(|o| o.id == "returns.approve").unwrap();
    table[i].path = "/return_refund/202309/returns/{return_id}/accept";
    table[i].shop_cipher = ShopCipher::Rejects;
    table[i].retry = RetrySafety::Safe;
    table.retain(|o| o.id != "orders.get");
    let r = check_table(&c, &table);
    let got: Vec<String> = r
        .divergences
        .iter()
        .filter(|d| d.operation == "returns.approve" || d.operation == "orders.get")
        .map(|d| format!("{} {}", d.operation, d.path))
        .collect();
    assert_eq!(
        got,
        [
            "returns.approve path",
            "returns.approve takes_shop_cipher",
            "returns.approve takes_idempotency_key",
            "orders.get ",
        ]
    );
}

/// The d.ts check sees a field renamed in a request type, a wrong type in an answer, and an operation
/// missing from `OperationTypes`.
#[test]
fn the_dts_check_finds_a_broken_type() {
    let c = load();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../operations.d.ts")).unwrap();
    assert!(check_dts(&c, OPERATIONS, &text).is_clean());
    let broken = text
        .replacen(
            "  /** 1–50 chars, no spaces, unique in the product. */\n  seller_sku: string",
            "  seller_skus: string",
            1,
        )
        .replacen(
            "  cancel_id: Id\n  order_id?: Id\n  cancel_status?",
            "  cancel_id: Id\n  order_id?: number\n  cancel_status?",
            1,
        )
        .replacen("  'webhooks.delete': {", "  'webhooks.remove': {", 1);
    assert_ne!(broken, text);
    let r = check_dts(&c, OPERATIONS, &broken);
    let got: Vec<String> = r.divergences.iter().map(|d| d.to_string()).collect();
    for expected in [
        "products.create body.skus[].seller_skus: operations.d.ts types a field the contract lacks",
        "cancellations.search data.cancellations[].order_id: operations.d.ts types a number where the contract documents a string",
        "webhooks.delete operations.d.ts: the table's operation is not in OperationTypes",
        "webhooks.remove operations.d.ts: an OperationTypes entry the table lacks",
    ] {
        assert!(got.iter().any(|g| g == expected), "{expected} not in {got:#?}");
    }
}

/// The model check sees every field of a model, optional ones included.
#[test]
fn the_model_tracer_sees_optional_fields_and_types() {
    use trace::Shape;
    let Shape::Obj(fields) = trace::shape_of::<tts_tiktok::model::product::ProductPartialEdit>() else {
        panic!("a struct")
    };
    assert!(fields.contains_key("external_product_id"), "{fields:?}");
    assert_eq!(fields["title"], Shape::Str);
    let Shape::List(sku) = &fields["skus"] else {
        panic!("skus is a list")
    };
    let Shape::Obj(sku) = &**sku else {
        panic!("a SKU is an object")
    };
    assert!(sku.contains_key("list_price") && sku.contains_key("identifier_code"));
}
