//! The client against the plentymarkets stand-in, started in-process on 127.0.0.1:0 (one per test).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tts_core::ErrorCode;
use tts_plenty::Decimal;
use tts_plenty::api::TimeWindow;
use tts_plenty::api::orders::Order;
use tts_plenty::api::payments::PaymentCreate;
use tts_plenty::api::returns::{ReturnCreate, ReturnQuantity};
use tts_plenty::api::stock::StockQuery;
use tts_plenty::api::variations::{ItemVariationQuery, PimVariationQuery};
use tts_plenty::client::{Client, ClientOptions, RetryPolicy};
use tts_plenty::model::{
    Address, AddressOption, AddressRelation, Contact, OrderCreate, OrderItem, OrderItemAmount, OrderRelation,
    Property, VariationSku,
};
use tts_plenty_sandbox::{Config, Running};

async fn sandbox(config: Config) -> Running {
    tts_plenty_sandbox::start(config).await.expect("stand-in starts")
}

fn client_for(s: &Running) -> Client {
    let c = &s.sandbox.config;
    let mut options = ClientOptions::new(&s.base_url, &c.username, &c.password);
    // Default pacing margin: the client shrinks it itself once it sees millisecond `Decay` values.
    options.retry = RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    Client::new(options).expect("valid options")
}

async fn control(s: &Running, method: &str, path: &str, body: Value) -> Value {
    let http = reqwest::Client::new();
    let url = format!("{}/_plenty{path}", s.base_url);
    let request = match method {
        "GET" => http.get(url),
        "PUT" => http.put(url).json(&body),
        "DELETE" => http.delete(url),
        _ => http.post(url).json(&body),
    };
    let response = request.send().await.expect("control API answers");
    assert!(
        response.status().is_success(),
        "{method} {path}: {}",
        response.status()
    );
    response.json().await.expect("JSON")
}

async fn counters(s: &Running) -> Value {
    control(s, "GET", "/counters", Value::Null).await
}

fn route_total(counters: &Value, route: &str) -> u64 {
    counters["routes"][route]["total"].as_u64().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Pacing, sessions, re-login
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_reads_and_five_hundred_writes_run_at_the_plan_limits_without_a_429() {
    let window = Duration::from_secs(1);
    let s = sandbox(Config {
        window,
        ..Config::default()
    })
    .await;
    let seeded = control(&s, "POST", "/seed", json!({"orders": 16})).await;
    let order_ids: Vec<i64> = seeded["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let client = client_for(&s);
    let (reads, writes) = (1000usize, 500usize);
    let plan = &s.sandbox.config.plan;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (t, &order_id) in order_ids.iter().enumerate() {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            // 8 readers and 8 writers, each with its share.
            if t < 8 {
                for i in 0..reads / 8 {
                    if i % 2 == 0 {
                        client.order(order_id).await?;
                    } else {
                        client.referrers().await?;
                    }
                }
            } else {
                for i in 0..writes.div_ceil(8) {
                    if (t - 8) * writes.div_ceil(8) + i >= writes {
                        break;
                    }
                    let status = if i % 2 == 0 {
                        Decimal::from(5)
                    } else {
                        Decimal::new(51, 1)
                    };
                    client.update_order_status(order_id, status).await?;
                }
            }
            Ok::<_, tts_core::Error>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    let c = counters(&s).await;
    assert_eq!(c["totals"]["rate_limited"], 0, "{c}");
    assert_eq!(client.stats().rate_limited, 0);
    let read_calls =
        route_total(&c, "GET /rest/orders/{orderId}") + route_total(&c, "GET /rest/orders/referrers");
    let write_calls = route_total(&c, "PUT /rest/orders/{orderId}");
    assert_eq!((read_calls, write_calls), (reads as u64, writes as u64), "{c}");
    // ≥ 90 % of the plan: the slower of the two budgets needs n/limit windows (+1 for the partial
    // first/last window); allow 11 % on top.
    let windows_needed =
        (reads as f64 / plan.reads_per_window as f64).max(writes as f64 / plan.writes_per_window as f64);
    let bound = window.mul_f64((windows_needed + 1.0) * 1.11);
    // With lazily started fixed windows the last call can go at the start of window ⌈n/limit⌉, so the
    // fastest possible run takes (⌈n/limit⌉ − 1) windows.
    let fastest = window.mul_f64((reads as f64 / plan.reads_per_window as f64).ceil() - 1.0);
    eprintln!(
        "paced: {reads} reads + {writes} writes in {elapsed:?} (fastest possible {fastest:?}, bound {bound:?}) \
         = {:.1} % of the plan's rate ({} reads / {} writes per window); 429s: 0; logins: {}",
        100.0 * fastest.as_secs_f64() / elapsed.as_secs_f64(),
        plan.reads_per_window,
        plan.writes_per_window,
        client.stats().logins
    );
    assert!(elapsed <= bound, "too slow: {elapsed:?} > {bound:?}");
    assert_eq!(client.stats().logins, 1);
}

#[tokio::test]
async fn thirty_two_concurrent_callers_share_one_login() {
    let s = sandbox(Config::default()).await;
    let client = client_for(&s);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(32));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, barrier) = (client.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            client.referrers().await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let c = counters(&s).await;
    assert_eq!(route_total(&c, "POST /rest/login"), 1, "{c}");
    assert_eq!(c["totals"]["rate_limited"], 0, "{c}");
    assert_eq!(route_total(&c, "GET /rest/orders/referrers"), 32);
    let sessions = control(&s, "GET", "/sessions", Value::Null).await;
    assert_eq!(sessions["valid"], 1);
}

#[tokio::test]
async fn the_session_cap_of_the_stand_in_is_real() {
    let s = sandbox(Config::default()).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        let c = client_for(&s);
        c.referrers().await.unwrap();
        clients.push(c);
    }
    // A fourth process logging in as the same user is refused with too_many_concurrent_sessions.
    let mut options = ClientOptions::new(&s.base_url, "rest-user", "sandbox-password");
    options.retry.max_attempts = 1;
    let e = Client::new(options).unwrap().referrers().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::RateLimited);
    assert!(e.message().contains("concurrent"), "{e}");
    assert!(e.retry_after.is_some());
}

#[tokio::test]
async fn a_401_causes_exactly_one_relogin_and_the_calls_succeed() {
    let s = sandbox(Config::default()).await;
    let client = client_for(&s);
    client.referrers().await.unwrap();
    control(&s, "POST", "/sessions/invalidate", Value::Null).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move { client.referrers().await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let c = counters(&s).await;
    assert_eq!(route_total(&c, "POST /rest/login"), 2, "{c}");
    assert_eq!(client.stats().logins, 2);
    // the fault kind does the same for one request
    control(&s, "POST", "/faults", json!({"kind": "unauthorized", "count": 1})).await;
    client.referrers().await.unwrap();
    assert_eq!(client.stats().logins, 3);
    // wrong credentials: a configuration error naming the settings, without the password
    let e = Client::new(ClientOptions::new(&s.base_url, "rest-user", "wrong-secret-pw"))
        .unwrap()
        .referrers()
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConfigInvalid);
    assert!(!format!("{e:?}").contains("wrong-secret-pw"));
    assert!(!format!("{client:?}").contains("sandbox-password"));
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_ahead_without_a_new_session() {
    let s = sandbox(Config {
        token_ttl: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let client = client_for(&s);
    client.referrers().await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    client.referrers().await.unwrap();
    let c = counters(&s).await;
    assert_eq!(route_total(&c, "POST /rest/login"), 1, "{c}");
    assert_eq!(route_total(&c, "POST /rest/login/refresh"), 1, "{c}");
    assert_eq!(client.stats().refreshes, 1);
}

#[tokio::test]
async fn a_throttled_route_is_paced_by_its_own_headers() {
    let s = sandbox(Config {
        window: Duration::from_millis(500),
        route_limits: vec![("POST /rest/orders".into(), 3)],
        ..Config::default()
    })
    .await;
    let client = client_for(&s);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..9 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client
                .create_order(&sales_order(&format!("route-{n}"), 1000, None))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let c = counters(&s).await;
    assert_eq!(c["totals"]["rate_limited"], 0, "{c}");
    // 9 orders at 3 per window: at least two window changes
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Catalogue reads
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn variations_are_paginated_lazily_with_their_relations() {
    let s = sandbox(Config::default()).await;
    let client = client_for(&s);
    let query = ItemVariationQuery {
        with: [
            "variationSalesPrices",
            "variationBarcodes",
            "variationAttributeValues",
            "images",
            "stock",
            "item",
        ]
        .map(String::from)
        .to_vec(),
        items_per_page: Some(7),
        ..Default::default()
    };
    let all: Vec<_> = client
        .item_variations(&query)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let total = s.sandbox.store.lock().unwrap().catalog.variations.len();
    assert_eq!(all.len(), total);
    assert_eq!(all.iter().map(|v| v.id).collect::<BTreeSet<_>>().len(), total);
    let c = counters(&s).await;
    assert_eq!(
        route_total(&c, "GET /rest/items/variations"),
        total.div_ceil(7) as u64
    );
    let shirt = all
        .iter()
        .find(|v| v.variation_attribute_values.len() == 2)
        .unwrap();
    assert_eq!(shirt.stock.len(), 2, "two warehouses");
    assert_eq!(shirt.variation_barcodes[0].code.len(), 13);
    assert!(!shirt.variation_sales_prices.is_empty());
    let names: Vec<&str> = shirt
        .variation_attribute_values
        .iter()
        .map(|a| a.attribute.as_ref().unwrap().names[0].name.as_str())
        .collect();
    assert_eq!(names, ["Farbe", "Größe"]);
    let item = shirt.item.as_ref().unwrap();
    let german = item.texts.iter().find(|t| t.lang == "de").unwrap();
    assert!(
        !german.name1.as_deref().unwrap().is_ascii(),
        "umlauts survive: {german:?}"
    );

    // a stream is lazy: taking 3 entries reads one page
    control(&s, "DELETE", "/counters", Value::Null).await;
    let first: Vec<_> = client.item_variations(&query).unwrap().take(3).collect().await;
    assert_eq!(first.len(), 3);
    assert_eq!(route_total(&counters(&s).await, "GET /rest/items/variations"), 1);

    // texts and images of one variation
    let texts = client.item_texts(shirt.item_id, shirt.id).await.unwrap();
    assert_eq!(
        texts.iter().map(|t| t.lang.as_str()).collect::<Vec<_>>(),
        ["de", "en"]
    );
    assert!(!client.item_images(shirt.item_id).await.unwrap().is_empty());
    let e = client.item_texts(shirt.item_id, 999_999).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn stock_changes_are_found_by_their_stock_updated_at_window() {
    let s = sandbox(Config::default()).await;
    let client = client_for(&s);
    let since = w3c_now(-2);
    let until = w3c_now(3600);
    control(
        &s,
        "POST",
        "/stock",
        json!({"variation_id": 1003, "warehouse_id": 2, "physical": 42}),
    )
    .await;
    let changed: Vec<Value> = client
        .pim_variations(&PimVariationQuery {
            with: vec!["base".into(), "timestamps".into()],
            stock_updated_at: Some(TimeWindow::new(&since, &until)),
            ..Default::default()
        })
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        changed
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [1003]
    );
    assert!(changed[0]["base"]["itemId"].is_i64());
    let rows: Vec<_> = client
        .stock(&StockQuery {
            updated_at_from: Some(since.clone()),
            ..Default::default()
        })
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "both warehouses of the changed variation");
    let second = rows.iter().find(|r| r.warehouse_id == 2).unwrap();
    assert_eq!(second.physical_stock, Decimal::from(42));
    let per_variation = client.variation_stock(100, 1003).await;
    assert!(per_variation.is_err(), "variation 1003 belongs to another item");
    let item_of_1003 = s.sandbox.store.lock().unwrap().catalog.variations[&1003].item_id;
    let per_variation = client.variation_stock(item_of_1003, 1003).await.unwrap();
    assert_eq!(
        per_variation
            .iter()
            .find(|r| r.warehouse_id == 2)
            .unwrap()
            .net_stock,
        Decimal::from(42)
    );
    let warehouse: Vec<_> = client
        .warehouse_stock(2, &StockQuery::default())
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        warehouse.iter().all(|r| r.warehouse_id == 2) && warehouse.len() > 50,
        "{}",
        warehouse.len()
    );
}

fn w3c_now(offset_secs: i64) -> String {
    tts_plenty_sandbox::clock::w3c(tts_plenty_sandbox::clock::now_secs() + offset_secs)
}

// ---------------------------------------------------------------------------------------------
// Orders and the rest of the write side
// ---------------------------------------------------------------------------------------------

fn sales_order(external_id: &str, variation_id: i64, address_id: Option<i64>) -> OrderCreate {
    OrderCreate {
        type_id: 1,
        plenty_id: 1000,
        status_id: Some(Decimal::from(3)),
        referrer_id: Some(Decimal::from(9)),
        currency: Some("EUR".into()),
        order_items: vec![
            OrderItem {
                type_id: 1,
                item_variation_id: variation_id,
                quantity: Decimal::from(2),
                order_item_name: "Bio-T-Shirt Weiß M".into(),
                referrer_id: Some(Decimal::from(9)),
                amounts: vec![OrderItemAmount {
                    currency: "EUR".into(),
                    price_original_gross: "19.99".parse().unwrap(),
                    ..Default::default()
                }],
                ..Default::default()
            },
            OrderItem {
                type_id: 6,
                quantity: Decimal::ONE,
                order_item_name: "Versandkosten".into(),
                amounts: vec![OrderItemAmount {
                    currency: "EUR".into(),
                    price_original_gross: "4.90".parse().unwrap(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
        properties: vec![Property::new(7, external_id), Property::new(6, "de")],
        address_relations: address_id
            .map(|a| {
                vec![
                    AddressRelation {
                        type_id: 1,
                        address_id: a,
                    },
                    AddressRelation {
                        type_id: 2,
                        address_id: a,
                    },
                ]
            })
            .unwrap_or_default(),
        ..Default::default()
    }
}

#[tokio::test]
async fn order_import_flow_find_status_payment_packages_return_cancel() {
    let s = sandbox(Config::default()).await;
    let client = client_for(&s);

    // the referrer is created once
    let referrer = client.ensure_referrer("TikTok Shop").await.unwrap();
    assert_eq!(client.ensure_referrer("TikTok Shop").await.unwrap(), referrer);
    assert_eq!(route_total(&counters(&s).await, "POST /rest/orders/referrers"), 1);
    assert!(referrer >= Decimal::from(9) && referrer <= Decimal::from(100));

    // buyer
    let contact = client
        .create_contact(&Contact {
            type_id: 1,
            referrer_id: Some(referrer),
            external_id: Some("tt-buyer-1".into()),
            first_name: "Jürgen".into(),
            last_name: "Müller".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let contact_id = contact.id.unwrap();
    let address = client
        .create_contact_address(
            contact_id,
            &Address {
                name2: "Jürgen".into(),
                name3: "Müller".into(),
                address1: "Hauptstraße".into(),
                address2: "5a".into(),
                postal_code: "34117".into(),
                town: "Kassel".into(),
                country_id: Some(1),
                options: vec![AddressOption {
                    type_id: 5,
                    value: "x@scs.tiktokw.us".into(),
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let address_id = address.id.unwrap();

    // import = find by external id, create only when absent
    let external = "7495_576461413338899999";
    assert!(
        client
            .find_order_by_external_id(external)
            .await
            .unwrap()
            .is_none()
    );
    let mut order = sales_order(external, 1000, Some(address_id));
    order.relations = vec![OrderRelation {
        reference_type: "contact".into(),
        reference_id: contact_id,
        relation: "receiver".into(),
    }];
    let created: Order = client.create_order(&order).await.unwrap();
    assert!(created.id > 0);
    assert_eq!(created.external_order_id(), Some(external));
    let found = client.find_order_by_external_id(external).await.unwrap().unwrap();
    assert_eq!(found.id, created.id);
    assert_eq!(found.order_items[0].quantity, Decimal::from(2));

    // invalid order: the server's validation error names the field
    let mut invalid = sales_order("x", 1000, None);
    invalid.order_items[0].item_variation_id = 424_242;
    let e = client.create_order(&invalid).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert_eq!(e.field.as_deref(), Some("orderItems.0.itemVariationId"));

    // status, payment
    let mop = client
        .ensure_payment_method("tiktokshop", "TIKTOK_SHOP", "TikTok Shop")
        .await
        .unwrap();
    assert_eq!(
        client
            .ensure_payment_method("tiktokshop", "TIKTOK_SHOP", "TikTok Shop")
            .await
            .unwrap(),
        mop
    );
    assert_eq!(route_total(&counters(&s).await, "POST /rest/payments/methods"), 1);
    let updated = client
        .update_order_status(created.id, Decimal::from(5))
        .await
        .unwrap();
    assert_eq!(updated.status_id, Decimal::from(5));
    let payment = client
        .create_payment(&PaymentCreate {
            amount: "44.88".parse().unwrap(),
            currency: "EUR".into(),
            exchange_ratio: Decimal::ONE,
            mop_id: mop,
            status: 2,
            transaction_type: 2,
            kind: "credit".into(),
            properties: vec![Property::new(1, "tt-txn-1")],
        })
        .await
        .unwrap();
    client
        .link_payment_to_order(payment.id, created.id)
        .await
        .unwrap();

    // shipped in the back office → package number for TikTok
    assert!(client.package_numbers(created.id).await.unwrap().is_empty());
    control(
        &s,
        "POST",
        &format!("/orders/{}/ship", created.id),
        json!({"package_number": "00340434161094042557"}),
    )
    .await;
    assert_eq!(
        client.package_numbers(created.id).await.unwrap(),
        ["00340434161094042557"]
    );
    assert_eq!(
        client.order(created.id).await.unwrap().status_id,
        Decimal::from(7)
    );

    // return of one unit → child order type 3
    let ret = client
        .create_return(
            created.id,
            &ReturnCreate {
                quantities: vec![ReturnQuantity {
                    order_item_id: found.order_items[0].id,
                    quantity: Decimal::ONE,
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((ret.type_id, ret.parent_order_id), (3, Some(created.id)));
    assert_eq!(ret.status_id, Decimal::from(9));

    // cancel (idempotent)
    assert_eq!(
        client.cancel_order(created.id).await.unwrap().status_id,
        Decimal::from(8)
    );
    assert_eq!(
        client.cancel_order(created.id).await.unwrap().status_id,
        Decimal::from(8)
    );

    // marketplace SKU per market
    let sku = client
        .create_variation_sku(
            100,
            &VariationSku {
                variation_id: 1000,
                market_id: referrer,
                account_id: 0,
                sku: "TT-1729382000000000001".into(),
                parent_sku: Some("TT-PARENT".into()),
                status: Some("ACTIVE".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(sku.id.is_some());
    let skus = client.variation_skus(100, 1000).await.unwrap();
    assert_eq!(skus.len(), 1);
    assert_eq!(skus[0].market_id, referrer);
    let by_sku: Vec<_> = client
        .item_variations(&ItemVariationQuery {
            sku: Some(format!("TT-1729382000000000001:{referrer}")),
            ..Default::default()
        })
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_sku.iter().map(|v| v.id).collect::<Vec<_>>(), [1000]);
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_5xx_burst_and_a_dropped_connection_are_retried_for_reads() {
    let s = sandbox(Config::default()).await;
    let client = client_for(&s);
    control(
        &s,
        "POST",
        "/faults",
        json!({"kind": "server_error", "endpoint": "GET /rest/orders/referrers", "count": 3, "status": 502}),
    )
    .await;
    client.referrers().await.unwrap();
    let c = counters(&s).await;
    assert_eq!(c["routes"]["GET /rest/orders/referrers"]["faults"], 3, "{c}");
    assert_eq!(client.stats().retries, 3);
    control(
        &s,
        "POST",
        "/faults",
        json!({"kind": "drop", "endpoint": "/rest/orders/referrers", "count": 1}),
    )
    .await;
    client.referrers().await.unwrap();
    assert_eq!(client.stats().retries, 4);
    // a write that is safe to repeat is retried too
    let seeded = control(&s, "POST", "/seed", json!({"orders": 1})).await;
    let order_id = seeded["orders"][0].as_i64().unwrap();
    control(
        &s,
        "POST",
        "/faults",
        json!({"kind": "server_error", "endpoint": "PUT /rest/orders/{orderId}", "count": 2}),
    )
    .await;
    client
        .update_order_status(order_id, Decimal::from(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn creating_an_order_is_not_retried_after_a_5xx() {
    let s = sandbox(Config::default()).await;
    let client = client_for(&s);
    control(
        &s,
        "POST",
        "/faults",
        json!({"kind": "server_error", "endpoint": "POST /rest/orders", "count": 1}),
    )
    .await;
    let e = client
        .create_order(&sales_order("tt-5xx", 1000, None))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.http_status),
        (ErrorCode::ServiceUnavailable, Some(503))
    );
    assert_eq!(
        route_total(&counters(&s).await, "POST /rest/orders"),
        1,
        "one attempt only"
    );
    // the caller's recovery: look up by external id, then create
    assert!(
        client
            .find_order_by_external_id("tt-5xx")
            .await
            .unwrap()
            .is_none()
    );
    client
        .create_order(&sales_order("tt-5xx", 1000, None))
        .await
        .unwrap();
    assert!(
        client
            .find_order_by_external_id("tt-5xx")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn retry_after_of_a_429_is_honoured() {
    let s = sandbox(Config::default()).await;
    let client = client_for(&s);
    client.referrers().await.unwrap();
    control(&s, "POST", "/faults", json!({"kind": "rate_limit", "endpoint": "GET /rest/orders/referrers", "count": 1, "retry_after_secs": 1})).await;
    let started = Instant::now();
    client.referrers().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(client.stats().rate_limited, 1);
    // even an unsafe write goes again after a 429: the server refused it before acting
    control(
        &s,
        "POST",
        "/faults",
        json!({"kind": "rate_limit", "endpoint": "POST /rest/orders", "count": 1, "retry_after_secs": 1}),
    )
    .await;
    client
        .create_order(&sales_order("tt-429", 1000, None))
        .await
        .unwrap();
    let c = counters(&s).await;
    assert_eq!(route_total(&c, "POST /rest/orders"), 2, "{c}");
    assert_eq!(c["routes"]["POST /rest/orders"]["ok"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answers_out_of_order_and_slow_never_make_the_pacer_overshoot() {
    // Random latency makes answers of one window arrive late, out of order and after the window
    // changed: the budget must attribute them to the right window and count what is in flight.
    let s = sandbox(Config {
        window: Duration::from_millis(400),
        plan: tts_plenty_sandbox::Plan {
            reads_per_window: 12,
            writes_per_window: 6,
            ..tts_plenty_sandbox::Plan::basic()
        },
        ..Config::default()
    })
    .await;
    for (latency, share) in [(150, 0.2), (60, 0.3), (20, 0.3)] {
        control(
            &s,
            "POST",
            "/faults",
            json!({"kind": "latency", "latency_ms": latency, "probability": share}),
        )
        .await;
    }
    let client = client_for(&s);
    let mut tasks = Vec::new();
    for t in 0..24 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                if t % 3 == 0 {
                    client
                        .create_contact(&Contact {
                            type_id: 1,
                            ..Default::default()
                        })
                        .await?;
                } else {
                    client.referrers().await?;
                }
            }
            Ok::<_, tts_core::Error>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let c = counters(&s).await;
    assert_eq!(c["totals"]["rate_limited"], 0, "{c}");
    assert_eq!(route_total(&c, "GET /rest/orders/referrers"), 80);
    assert_eq!(route_total(&c, "POST /rest/accounts/contacts"), 40);
}

#[tokio::test]
async fn a_used_up_daily_budget_fails_fast_instead_of_hanging_or_hitting_429() {
    let s = sandbox(Config {
        plan: tts_plenty_sandbox::Plan {
            reads_per_day: 3,
            ..tts_plenty_sandbox::Plan::basic()
        },
        ..Config::default()
    })
    .await;
    let c = &s.sandbox.config;
    let mut options = ClientOptions::new(format!("{}/rest/", s.base_url), &c.username, &c.password);
    options.max_pacing_wait = Duration::from_secs(5);
    let client = Client::new(options).unwrap();
    for _ in 0..3 {
        client.referrers().await.unwrap();
    }
    let started = Instant::now();
    let e = client.referrers().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(e.code(), ErrorCode::RateLimited);
    assert!(e.retry_after.unwrap() > Duration::from_secs(80_000), "{e:?}");
    assert_eq!(counters(&s).await["totals"]["rate_limited"], 0);
}

#[tokio::test]
async fn a_kept_session_is_reused_after_a_restart_without_a_new_login() {
    let s = sandbox(Config::default()).await;
    let kept = std::sync::Arc::new(std::sync::Mutex::new(None));
    let mut options = ClientOptions::new(&s.base_url, "rest-user", "sandbox-password");
    let sink = kept.clone();
    options.on_session = Some(std::sync::Arc::new(
        move |snapshot: &tts_plenty::client::auth::SessionSnapshot| {
            *sink.lock().unwrap() = Some(snapshot.clone());
        },
    ));
    let first_run = Client::new(options).unwrap();
    first_run.referrers().await.unwrap();
    let snapshot = kept.lock().unwrap().clone().expect("the hook saw the login");
    assert!(!format!("{snapshot:?}").contains(tts_core::ExposeSecret::expose_secret(&snapshot.access_token)));
    drop(first_run);
    // "restart" four times: without restoring, the fourth start would hit the session cap of 3
    for _ in 0..4 {
        let next_run = client_for(&s);
        next_run.restore_session(snapshot.clone()).await;
        next_run.referrers().await.unwrap();
        assert_eq!(next_run.stats().logins, 0);
    }
    let c = counters(&s).await;
    assert_eq!(route_total(&c, "POST /rest/login"), 1, "{c}");
    assert_eq!(control(&s, "GET", "/sessions", Value::Null).await["valid"], 1);
    // a kept session the server no longer knows: one login, then it works
    control(&s, "POST", "/sessions/invalidate", Value::Null).await;
    let after_reset = client_for(&s);
    after_reset.restore_session(snapshot).await;
    after_reset.referrers().await.unwrap();
    assert_eq!(after_reset.stats().logins, 1);
}
