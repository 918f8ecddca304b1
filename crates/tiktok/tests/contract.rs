//! The API contract test (issue 12): the operation table, the typed models and `operations.d.ts` held to
//! the contract extracted from TikTok's official SDK (`crates/tiktok/contract/*.json` + `overrides.json`,
//! loaded by `tts-contract`). Every divergence names the operation and the JSON path.
//!
//! The stand-in holds what our engines send and what it answers to the same contract on every request
//! (`GET /_sandbox/contract`); the end-to-end suites of `tts-sync` assert it found nothing.

use tts_contract::{Contract, Report};
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
}

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
    let n = OPERATIONS.len();
    println!(
        "contract: {n} operations, {} fields checked, {} divergences",
        total.fields_checked,
        total.divergences.len()
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
