//! Pagination (`page_size` + opaque `page_token`, spec §3) as lazy streams, and the time windows of
//! order reconciliation.

use std::collections::HashMap;

use futures_util::Stream;
use futures_util::stream::{self, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tts_core::{Error, ErrorCode, Result};

use super::{CallInput, Shop};
use crate::operations::Operation;
use crate::sign::QueryValue;
use crate::transport::decode_raw;

/// One page of a search. `items` stays raw JSON (an array) until decoded.
#[derive(Clone, Debug)]
pub struct Page {
    pub items: Box<RawValue>,
    /// `None` on the last page.
    pub next_page_token: Option<String>,
    pub total_count: Option<u64>,
}

impl Page {
    /// The items decoded as `T`.
    pub fn decode_items<T: DeserializeOwned>(&self, what: &str) -> Result<Vec<T>> {
        decode_raw(what, &self.items)
    }
}

/// The `data` field holding a search's items.
pub fn items_field(operation: &Operation) -> Option<&'static str> {
    Some(match operation.id {
        "orders.search" => "orders",
        "products.search" => "products",
        "packages.search" => "packages",
        "returns.search" => "return_orders",
        "cancellations.search" => "cancellations",
        "brands.list" => "brands",
        _ => return None,
    })
}

/// Reads a page out of a search answer's `data`, leaving the items raw.
pub fn page_from(operation: &Operation, data: &RawValue) -> Result<Page> {
    let field = items_field(operation).ok_or_else(|| {
        Error::invalid_argument("operation", format!("{} is not a paginated search", operation.id))
    })?;
    let mut fields: HashMap<String, Box<RawValue>> = match data.get() {
        "null" => HashMap::new(),
        _ => decode_raw("search answer", data)?,
    };
    let items = match fields.remove(field) {
        Some(raw) if raw.get().trim_start().starts_with('[') => raw,
        None => RawValue::from_string("[]".into()).expect("valid JSON"),
        Some(raw) if raw.get() == "null" => RawValue::from_string("[]".into()).expect("valid JSON"),
        Some(_) => {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                format!("`data.{field}` is not a list"),
            )
            .with_field(format!("data.{field}")));
        }
    };
    let next_page_token = fields
        .get("next_page_token")
        .and_then(|raw| serde_json::from_str::<Option<String>>(raw.get()).ok().flatten())
        .filter(|t| !t.is_empty());
    let total_count = fields
        .get("total_count")
        .and_then(|raw| serde_json::from_str::<Option<u64>>(raw.get()).ok().flatten());
    Ok(Page {
        items,
        next_page_token,
        total_count,
    })
}

impl Shop {
    /// Fetches one page. `input` carries the filters (body) and other query parameters.
    pub async fn fetch_page(
        &self,
        operation: &'static Operation,
        mut input: CallInput,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Page> {
        input.query.retain(|(k, _)| k != "page_size" && k != "page_token");
        input
            .query
            .push(("page_size".into(), QueryValue::One(page_size.to_string())));
        if let Some(token) = page_token {
            input
                .query
                .push(("page_token".into(), QueryValue::One(token.to_string())));
        }
        let envelope = self.call(operation, input).await?;
        page_from(operation, &envelope.data)
    }

    /// Every item of a search, decoded as `T`, page after page, fetched lazily as the stream is read.
    pub fn paginate<T: DeserializeOwned + Send + 'static>(
        &self,
        operation: &'static Operation,
        input: CallInput,
        page_size: u32,
    ) -> impl Stream<Item = Result<T>> + Send + 'static {
        let shop = self.clone();
        let pages = stream::try_unfold(Some(None::<String>), move |state| {
            let shop = shop.clone();
            let input = input.clone();
            async move {
                let Some(token) = state else { return Ok(None) };
                let page = shop
                    .fetch_page(operation, input, page_size, token.as_deref())
                    .await?;
                if token.is_none() {
                    if let Some(total) = page.total_count {
                        tts_core::progress::report_list_total(total);
                    }
                }
                let items: Vec<T> = page.decode_items(operation.id)?;
                let next = page.next_page_token.clone().map(Some);
                Ok(Some((items, next)))
            }
        });
        pages
            .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
    }
}

/// Splits `[from, to)` into windows of `size` seconds, each starting `overlap` seconds before the
/// previous one ended, so an order updated at a window's edge is seen at least once even with clock
/// skew between TikTok's index and ours. Pure.
pub fn reconciliation_windows(from: i64, to: i64, size: i64, overlap: i64) -> Result<Vec<(i64, i64)>> {
    if size <= 0 || overlap < 0 || overlap >= size {
        return Err(Error::invalid_argument(
            "window",
            "size must be > 0 and 0 <= overlap < size",
        ));
    }
    let mut windows = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + size).min(to);
        windows.push((start, end));
        if end == to {
            break;
        }
        start = end - overlap;
    }
    Ok(windows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_range_with_overlap() {
        assert_eq!(
            reconciliation_windows(0, 250, 100, 10).unwrap(),
            vec![(0, 100), (90, 190), (180, 250)]
        );
        assert_eq!(reconciliation_windows(0, 100, 100, 0).unwrap(), vec![(0, 100)]);
        assert!(reconciliation_windows(5, 5, 100, 0).unwrap().is_empty());
        assert!(reconciliation_windows(0, 10, 10, 10).is_err());
    }

    fn raw(v: serde_json::Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&v).unwrap()
    }

    #[test]
    fn pages_are_read_from_the_operation_field() {
        let op = Operation::find("returns.search").unwrap();
        let data = raw(
            serde_json::json!({"return_orders": [{"return_id": "1"}], "next_page_token": "t+/=", "total_count": 3}),
        );
        let page = page_from(op, &data).unwrap();
        assert_eq!(page.decode_items::<serde_json::Value>("r").unwrap().len(), 1);
        assert_eq!(
            (page.next_page_token.as_deref(), page.total_count),
            (Some("t+/="), Some(3))
        );
        let last = page_from(op, &raw(serde_json::json!({"next_page_token": ""}))).unwrap();
        assert_eq!((last.items.get(), last.next_page_token), ("[]", None));
        assert!(
            page_from(
                Operation::find("orders.get").unwrap(),
                &raw(serde_json::json!({}))
            )
            .is_err()
        );
        let e = page_from(op, &raw(serde_json::json!({"return_orders": 5}))).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidResponse);
    }
}
