//! Order referrers (the marketplace's identity; its id is also the SKUs' `marketId`):
//! `GET /rest/orders/referrers`, `POST /rest/orders/referrers`, and [`Client::ensure_referrer`].

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tts_core::{Error, Result};

use crate::client::{Client, Request};
use crate::model::decimal_number;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Referrer {
    /// e.g. 1, 104.01 (sub-referrers have two decimals).
    #[serde(with = "decimal_number")]
    pub id: Decimal,
    pub name: String,
    pub backend_name: String,
    pub origin: Option<String>,
    pub is_editable: Option<bool>,
    pub is_filterable: Option<bool>,
}

/// Body of `POST /rest/orders/referrers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReferrerCreate {
    pub name: String,
    pub backend_name: String,
    pub origin: String,
    pub is_editable: bool,
    pub is_filterable: bool,
}

impl Client {
    pub async fn referrers(&self) -> Result<Vec<Referrer>> {
        self.call(&Request::new("GET /rest/orders/referrers")).await
    }

    pub async fn create_referrer(&self, referrer: &ReferrerCreate) -> Result<Referrer> {
        self.call(&Request::new("POST /rest/orders/referrers").json(referrer)?)
            .await
    }

    /// The id of the referrer named `name` (by `backendName` or `name`), creating it (non-editable, as
    /// marketplace plugins do) when none exists. Calls of one client are serialised so two concurrent
    /// calls don't both create it.
    pub async fn ensure_referrer(&self, name: &str) -> Result<Decimal> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid_argument("referrerName", "must not be empty"));
        }
        let _one_at_a_time = self.referrer_lock().lock().await;
        if let Some(found) = find_referrer(&self.referrers().await?, name) {
            return Ok(found.id);
        }
        let created = self
            .create_referrer(&ReferrerCreate {
                name: name.to_string(),
                backend_name: name.to_string(),
                origin: name.to_string(),
                is_editable: false,
                is_filterable: true,
            })
            .await?;
        Ok(created.id)
    }
}

/// The referrer whose `backendName` or `name` equals `name` (case-insensitive). Pure.
pub fn find_referrer<'a>(referrers: &'a [Referrer], name: &str) -> Option<&'a Referrer> {
    referrers
        .iter()
        .find(|r| r.backend_name.eq_ignore_ascii_case(name) || r.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_backend_name_or_name() {
        let list: Vec<Referrer> = serde_json::from_str(
            r#"[{"id":1,"name":"Webshop","backendName":"Client"},{"id":"9","name":"tiktok shop","backendName":"TT"}]"#,
        )
        .unwrap();
        assert_eq!(find_referrer(&list, "TikTok Shop").unwrap().id, Decimal::from(9));
        assert_eq!(find_referrer(&list, "client").unwrap().id, Decimal::ONE);
        assert!(find_referrer(&list, "Etsy").is_none());
    }
}
