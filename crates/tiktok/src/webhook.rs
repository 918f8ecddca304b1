//! Webhooks (spec §6): verify the raw bytes, then parse into a typed event.
//!
//! `Authorization` header = lowercase hex HMAC-SHA256(key = app_secret, message = app_key + raw body).
//! TikTok signs no timestamp and no id, so there is no replay window to check: receivers must
//! de-duplicate on `tts_notification_id` (the durable inbox does).

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use tts_core::{Error, ErrorCode, Result};

// Ids are strings in TikTok's payloads; numbers are accepted too, so a 64-bit id never loses precision.
use crate::model::lenient;

type HmacSha256 = hmac::Hmac<Sha256>;

fn mac_for(app_key: &str, app_secret: &str, raw_body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(app_secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(app_key.as_bytes());
    mac.update(raw_body);
    mac
}

/// The `Authorization` value TikTok would send for this body (for tests and the sandbox of integrators).
pub fn sign(app_key: &str, app_secret: &str, raw_body: &[u8]) -> String {
    hex::encode(mac_for(app_key, app_secret, raw_body).finalize().into_bytes())
}

/// True when `authorization` is the signature of `raw_body` under any of `app_secrets` (several
/// secrets allow rotation). Constant-time comparison; a malformed header is simply not valid.
pub fn verify(app_key: &str, app_secrets: &[&str], authorization: &str, raw_body: &[u8]) -> bool {
    let Ok(expected) = hex::decode(authorization.trim()) else {
        return false;
    };
    if expected.len() != 32 {
        return false;
    }
    // Every secret is tried, so the time taken does not tell which one matched.
    app_secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(false, |ok, secret| {
            mac_for(app_key, secret, raw_body).verify_slice(&expected).is_ok() | ok
        })
}

/// A verified notification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    /// The numeric topic (`type`).
    #[serde(rename = "type")]
    pub type_code: i64,
    /// The topic name (`ORDER_STATUS_CHANGE`...) or `UNKNOWN`.
    pub event_type: &'static str,
    pub tts_notification_id: String,
    pub shop_id: String,
    /// Unix seconds.
    pub timestamp: i64,
    pub event: Event,
}

/// Typed payloads of the topics whose `data` is documented; other documented topics keep their raw
/// `data`, and topics we don't know become [`Event::Unknown`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    OrderStatusChange(OrderStatusChange),
    RecipientAddressUpdate(RecipientAddressUpdate),
    PackageUpdate(PackageUpdate),
    ProductStatusChange(ProductStatusChange),
    SellerDeauthorization(SellerDeauthorization),
    UpcomingAuthorizationExpiration(UpcomingAuthorizationExpiration),
    CancellationStatusChange(CancellationStatusChange),
    ReturnStatusChange(ReturnStatusChange),
    ProductAuditStatusChange(ProductAuditStatusChange),
    /// A documented topic whose `data` shape we do not model; `data` is kept as received.
    Documented(Value),
    /// A topic number we do not know; `data` is kept as received.
    Unknown(Value),
}

/// Topic numbers and names (spec §6 table).
pub const TOPICS: &[(i64, &str)] = &[
    (1, "ORDER_STATUS_CHANGE"),
    (2, "REVERSE_STATUS_UPDATE"),
    (3, "RECIPIENT_ADDRESS_UPDATE"),
    (4, "PACKAGE_UPDATE"),
    (5, "PRODUCT_STATUS_CHANGE"),
    (6, "SELLER_DEAUTHORIZATION"),
    (7, "UPCOMING_AUTHORIZATION_EXPIRATION"),
    (11, "CANCELLATION_STATUS_CHANGE"),
    (12, "RETURN_STATUS_CHANGE"),
    (13, "NEW_CONVERSATION"),
    (14, "NEW_MESSAGE"),
    (15, "PRODUCT_INFORMATION_CHANGE"),
    (16, "PRODUCT_CREATION"),
    (17, "SHOPPABLE_CONTENT_POSTING"),
    (18, "PRODUCT_CATEGORY_CHANGE"),
    (19, "SIZE_CHART_CHANGE"),
    (20, "CREATOR_DEAUTHORIZATION"),
    (21, "INBOUND_FBT_ORDER_STATUS_CHANGE"),
    (22, "FBT_MERCHANT_ONBOARDING"),
    (23, "GOODS_MATCH"),
    (24, "FBT_INVENTORY_UPDATE"),
    (25, "OPPORTUNITY_MATCHING_STATUS_CHANGE"),
    (27, "INVENTORY_STATUS_CHANGE"),
    (33, "NEW_MESSAGE_LISTENER"),
    (35, "TOKOPEDIA_MIRROR_STATUS_CHANGE"),
    (36, "INVOICE_STATUS_CHANGE"),
    (37, "PRODUCT_AUDIT_STATUS_CHANGE"),
    (38, "STRIKETHROUGH_PRICE_EXPIRED"),
    (39, "ACTIVITY_STATUS_CHANGE"),
    (42, "COMBINED_LISTING_CHANGE"),
    (46, "IMAGE_TRANSLATION_COMPLETED"),
    (51, "GLOBAL_REPLICATION_STATUS_CHANGE"),
    (52, "GLOBAL_LISTING_METHOD_CHANGE"),
    (55, "VIDEO_PRECHECK_RESULT"),
];

/// The topic name of a `type`, or `UNKNOWN`.
pub fn topic_name(type_code: i64) -> &'static str {
    TOPICS
        .iter()
        .find(|(n, _)| *n == type_code)
        .map_or("UNKNOWN", |(_, name)| name)
}

macro_rules! lenient_struct {
    ($(#[$doc:meta])* $name:ident { $( $(#[$fdoc:meta])* $field:ident : $ty:ty $(=> $with:literal)? ),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $( $(#[$fdoc])* #[serde(default $(, deserialize_with = $with)?)] pub $field: $ty, )*
            /// Fields we don't model, kept as received.
            #[serde(flatten)]
            pub other: serde_json::Map<String, Value>,
        }
    };
}

lenient_struct!(
    /// Type 1.
    OrderStatusChange {
        order_id: String => "lenient::string",
        /// `UNPAID`, `ON_HOLD`, `AWAITING_SHIPMENT`, ... (`CANCEL` appears in the docs for `CANCELLED`).
        order_status: String,
        is_on_hold_order: Option<bool>,
        update_time: Option<i64>,
    }
);
lenient_struct!(
    /// Type 3.
    RecipientAddressUpdate { order_id: String => "lenient::string", update_time: Option<i64> }
);
lenient_struct!(
    /// One package of a type-4 notification.
    PackageRef { package_id: String => "lenient::string", order_id_list: Vec<String> => "lenient::string_vec" }
);
lenient_struct!(
    /// Type 4.
    PackageUpdate { sc_type: Option<String>, role_type: Option<String>, package_list: Vec<PackageRef>, update_time: Option<i64> }
);
lenient_struct!(
    /// Type 5.
    ProductStatusChange {
        product_id: String => "lenient::string",
        status: Option<String>,
        suspended_reason: Option<String>,
        update_time: Option<i64>,
    }
);
lenient_struct!(
    /// Type 6.
    SellerDeauthorization { message: Option<String> }
);
lenient_struct!(
    /// Type 7.
    UpcomingAuthorizationExpiration { message: Option<String>, expiration_time: Option<i64> }
);
lenient_struct!(
    /// Type 11.
    CancellationStatusChange {
        order_id: String => "lenient::string",
        cancellations_role: Option<String>,
        cancel_status: Option<String>,
        cancel_id: Option<String> => "lenient::opt_string",
        create_time: Option<i64>,
    }
);
lenient_struct!(
    /// Type 12.
    ReturnStatusChange {
        order_id: String => "lenient::string",
        return_role: Option<String>,
        return_type: Option<String>,
        return_status: Option<String>,
        return_id: Option<String> => "lenient::opt_string",
        create_time: Option<i64>,
        update_time: Option<i64>,
    }
);
/// Type 37. Its `data` is not documented in our sources (spec §6 lists the topic only; UNVERIFIED):
/// everything is read leniently. `audit_failed_reasons` is taken to have the shape of the product
/// detail's field (`[{position, reasons[], suggestions[]}]`, as the sandbox sends it); whatever else
/// arrives there never fails the notification (see [`AuditFailedReason`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductAuditStatusChange {
    #[serde(default, deserialize_with = "lenient::string")]
    pub product_id: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    /// The audit's reasons; `None` when the notification carries none (or nothing readable), so
    /// the receiver must read them from the product (`products.get`).
    #[serde(
        default,
        deserialize_with = "audit_failed_reasons",
        skip_serializing_if = "Option::is_none"
    )]
    pub audit_failed_reasons: Option<Vec<AuditFailedReason>>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub update_time: Option<i64>,
    /// Fields we don't model, kept as received.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// One entry of `audit_failed_reasons`: where (`position`, e.g. `title`), why, and what to do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFailedReason {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// Fields we don't model (e.g. `listing_platform`), kept as received.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

impl AuditFailedReason {
    /// One entry from whatever TikTok sent: an object (`reasons` / `suggestions` as a list or a
    /// single text), or a bare text (a reason). `None` for anything without text.
    fn lenient(value: Value) -> Option<Self> {
        fn texts(v: Option<Value>) -> Vec<String> {
            match v {
                Some(Value::String(s)) if !s.trim().is_empty() => vec![s],
                Some(Value::Array(items)) => items
                    .into_iter()
                    .filter_map(|i| match i {
                        Value::String(s) if !s.trim().is_empty() => Some(s),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        }
        match value {
            Value::String(s) if !s.trim().is_empty() => Some(AuditFailedReason {
                reasons: vec![s],
                ..Default::default()
            }),
            Value::Object(mut m) => {
                let position = match m.remove("position") {
                    Some(Value::String(s)) if !s.is_empty() => Some(s),
                    _ => None,
                };
                let reasons = texts(m.remove("reasons"));
                let suggestions = texts(m.remove("suggestions"));
                (!reasons.is_empty() || !suggestions.is_empty()).then_some(AuditFailedReason {
                    position,
                    reasons,
                    suggestions,
                    other: m,
                })
            }
            _ => None,
        }
    }
}

/// `audit_failed_reasons` read leniently: a list (entries without text are dropped), a single entry,
/// or nothing (`null`, missing, another type → `None`). Never an error: a malformed field must not
/// cost the status change it comes with.
fn audit_failed_reasons<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<AuditFailedReason>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => Some(items.into_iter().filter_map(AuditFailedReason::lenient).collect()),
        Some(one @ (Value::Object(_) | Value::String(_))) => {
            Some(AuditFailedReason::lenient(one).into_iter().collect())
        }
        _ => None,
    })
}

#[derive(Deserialize)]
struct RawNotification {
    #[serde(rename = "type")]
    type_code: i64,
    #[serde(deserialize_with = "lenient::string")]
    tts_notification_id: String,
    #[serde(deserialize_with = "lenient::string")]
    shop_id: String,
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    data: Value,
}

fn payload_error(message: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::WebhookPayloadInvalid,
        format!("webhook body: {message}"),
    )
}

fn typed<T: serde::de::DeserializeOwned>(data: Value, wrap: fn(T) -> Event) -> Result<Event> {
    serde_path_to_error::deserialize(data).map(wrap).map_err(|e| {
        payload_error(format!("data.{}: {}", e.path(), e.inner())).with_field(format!("data.{}", e.path()))
    })
}

/// Parses a body that has already been verified.
pub fn parse(raw_body: &[u8]) -> Result<Notification> {
    let raw: RawNotification = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(
        raw_body,
    ))
    .map_err(|e| {
        let path = e.path().to_string();
        payload_error(format!("`{path}`: {}", e.inner())).with_field(path)
    })?;
    if raw.tts_notification_id.is_empty() {
        return Err(payload_error("`tts_notification_id` is missing").with_field("tts_notification_id"));
    }
    let event = match raw.type_code {
        1 => typed(raw.data, Event::OrderStatusChange)?,
        3 => typed(raw.data, Event::RecipientAddressUpdate)?,
        4 => typed(raw.data, Event::PackageUpdate)?,
        5 => typed(raw.data, Event::ProductStatusChange)?,
        6 => typed(raw.data, Event::SellerDeauthorization)?,
        7 => typed(raw.data, Event::UpcomingAuthorizationExpiration)?,
        11 => typed(raw.data, Event::CancellationStatusChange)?,
        12 => typed(raw.data, Event::ReturnStatusChange)?,
        37 => typed(raw.data, Event::ProductAuditStatusChange)?,
        n if topic_name(n) != "UNKNOWN" => Event::Documented(raw.data),
        _ => Event::Unknown(raw.data),
    };
    Ok(Notification {
        type_code: raw.type_code,
        event_type: topic_name(raw.type_code),
        tts_notification_id: raw.tts_notification_id,
        shop_id: raw.shop_id,
        timestamp: raw.timestamp,
        event,
    })
}

/// Verifies, then parses. An invalid signature is [`ErrorCode::SignatureInvalid`] and the body is not
/// looked at.
pub fn verify_and_parse(
    app_key: &str,
    app_secrets: &[&str],
    authorization: &str,
    raw_body: &[u8],
) -> Result<Notification> {
    if authorization.trim().is_empty() {
        return Err(
            Error::new(ErrorCode::SignatureInvalid, "webhook has no Authorization header")
                .with_field("authorization"),
        );
    }
    if !verify(app_key, app_secrets, authorization, raw_body) {
        return Err(Error::new(
            ErrorCode::SignatureInvalid,
            "webhook Authorization does not match HMAC-SHA256(app_secret, app_key + raw body); \
             check the app key/secret and that the body is the exact bytes received",
        )
        .with_field("authorization"));
    }
    parse(raw_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> Vec<Value> {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/spec/webhook-vectors.json"
        ))
        .expect("../shared/spec/webhook-vectors.json beside the repository");
        serde_json::from_str::<Value>(&text).unwrap()["vectors"]
            .as_array()
            .unwrap()
            .clone()
    }

    #[test]
    fn shared_vectors_verify_as_expected() {
        let vectors = vectors();
        assert!(vectors.len() >= 2);
        for v in vectors {
            let (key, secret) = (v["app_key"].as_str().unwrap(), v["app_secret"].as_str().unwrap());
            let body = v["raw_body"].as_str().unwrap().as_bytes();
            let auth = v["authorization"].as_str().unwrap();
            let valid = v["valid"].as_bool().unwrap();
            assert_eq!(verify(key, &[secret], auth, body), valid, "{}", v["name"]);
            assert_eq!(
                verify(key, &["rotated-out", secret], auth, body),
                valid,
                "rotation: {}",
                v["name"]
            );
            assert_eq!(sign(key, secret, body) == auth, valid);
        }
    }

    #[test]
    fn malformed_headers_and_wrong_keys_are_rejected() {
        let body = br#"{"type":1}"#;
        let good = sign("k", "s", body);
        assert!(verify("k", &["s"], &good, body));
        assert!(verify("k", &["s"], &format!("  {}  ", good.to_uppercase()), body));
        assert!(!verify("k", &["s"], &good[..62], body));
        assert!(!verify("k", &["s"], "zz", body));
        assert!(!verify("k", &["s"], "", body));
        assert!(!verify("other", &["s"], &good, body));
        assert!(!verify("k", &[], &good, body));
        assert!(!verify("k", &[""], &good, body));
    }

    #[test]
    fn official_example_parses_into_a_typed_order_event() {
        let v = &vectors()[0];
        let body = v["raw_body"].as_str().unwrap().as_bytes();
        let n = verify_and_parse("abcdef", &["123"], v["authorization"].as_str().unwrap(), body).unwrap();
        assert_eq!((n.type_code, n.event_type), (1, "ORDER_STATUS_CHANGE"));
        assert_eq!(n.tts_notification_id, "7380066284010030890");
        assert_eq!(n.shop_id, "7495540735365777507");
        let Event::OrderStatusChange(e) = n.event else {
            panic!("typed")
        };
        assert_eq!(e.order_id, "576653688135258178");
        assert_eq!(e.order_status, "UNPAID");
        assert_eq!(e.is_on_hold_order, Some(true));
    }

    #[test]
    fn every_topic_parses_and_unknown_keeps_raw_data() {
        for (n, name) in TOPICS {
            let body = format!(
                r#"{{"type":{n},"tts_notification_id":"1","shop_id":"2","timestamp":3,"data":{{"order_id":"9","product_id":"8","x":1}}}}"#
            );
            let parsed = parse(body.as_bytes()).unwrap();
            assert_eq!(parsed.event_type, *name);
            assert!(!matches!(parsed.event, Event::Unknown(_)), "{name}");
        }
        let parsed = parse(
            br#"{"type":999,"tts_notification_id":7380066284010030890,"shop_id":"2","data":{"new":[1]}}"#,
        )
        .unwrap();
        assert_eq!(parsed.event_type, "UNKNOWN");
        assert_eq!(
            parsed.tts_notification_id, "7380066284010030890",
            "numeric ids become exact strings"
        );
        assert_eq!(parsed.event, Event::Unknown(serde_json::json!({"new":[1]})));
    }

    #[test]
    fn product_audit_events_carry_their_failed_reasons_when_sent() {
        let event = |data: &str| {
            let body = format!(
                r#"{{"type":37,"tts_notification_id":"1","shop_id":"2","timestamp":3,"data":{data}}}"#
            );
            match parse(body.as_bytes()).unwrap().event {
                Event::ProductAuditStatusChange(e) => e,
                other => panic!("{other:?}"),
            }
        };
        // As the sandbox sends it (the product detail's shape).
        let e = event(
            r#"{"product_id":1729382000000000001,"status":"FAILED","update_time":"1700000000","audit_failed_reasons":[
                {"position":"title","reasons":["The title contains a prohibited word."],"suggestions":["Remove it."],"listing_platform":"TIKTOK_SHOP"}]}"#,
        );
        assert_eq!(e.product_id, "1729382000000000001");
        assert_eq!(
            (e.status.as_deref(), e.update_time),
            (Some("FAILED"), Some(1_700_000_000))
        );
        let reasons = e.audit_failed_reasons.unwrap();
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].position.as_deref(), Some("title"));
        assert_eq!(reasons[0].reasons, ["The title contains a prohibited word."]);
        assert_eq!(reasons[0].suggestions, ["Remove it."]);
        assert_eq!(reasons[0].other["listing_platform"], "TIKTOK_SHOP");
        // Absent or unreadable: None (the receiver reads the product); never a failed parse.
        assert_eq!(
            event(r#"{"product_id":"9","status":"ACTIVATE"}"#).audit_failed_reasons,
            None
        );
        assert_eq!(
            event(r#"{"product_id":"9","audit_failed_reasons":null}"#).audit_failed_reasons,
            None
        );
        assert_eq!(
            event(r#"{"product_id":"9","audit_failed_reasons":17}"#).audit_failed_reasons,
            None
        );
        // Present but empty (an approval) is not absent.
        assert_eq!(
            event(r#"{"product_id":"9","audit_failed_reasons":[]}"#).audit_failed_reasons,
            Some(vec![])
        );
        // Other shapes: a bare text, a single object, a reason given as text, junk entries dropped.
        let e = event(
            r#"{"product_id":"9","audit_failed_reasons":["Blurry image",{"position":"main_images","reasons":"Too small"},{"x":1},7]}"#,
        );
        let reasons = e.audit_failed_reasons.unwrap();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert_eq!(reasons[0].reasons, ["Blurry image"]);
        assert_eq!(
            (reasons[1].position.as_deref(), reasons[1].reasons.clone()),
            (Some("main_images"), vec!["Too small".to_string()])
        );
        let e = event(r#"{"product_id":"9","audit_failed_reasons":{"reasons":["One"]}}"#);
        assert_eq!(e.audit_failed_reasons.unwrap()[0].reasons, ["One"]);
        // Serialized back (what JS sees): the field only when it was there.
        let json = serde_json::to_value(event(r#"{"product_id":"9","status":"ACTIVATE"}"#)).unwrap();
        assert!(json.get("audit_failed_reasons").is_none(), "{json}");
    }

    #[test]
    fn malformed_payloads_name_the_failing_field() {
        let e = parse(b"not json").unwrap_err();
        assert_eq!(e.code(), ErrorCode::WebhookPayloadInvalid);
        let e = parse(br#"{"tts_notification_id":"1","shop_id":"2"}"#).unwrap_err();
        assert!(e.message().contains("type"), "{e}");
        let e = parse(br#"{"type":1,"tts_notification_id":"1","shop_id":"2","data":{"update_time":"soon"}}"#)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("data.update_time"), "{e}");
        let e = verify_and_parse("k", &["s"], "00", b"{}").unwrap_err();
        assert_eq!(e.code(), ErrorCode::SignatureInvalid);
    }
}
