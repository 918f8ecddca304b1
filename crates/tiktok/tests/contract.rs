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
