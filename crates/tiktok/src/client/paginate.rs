//! Pagination (`page_size` + opaque `page_token`, spec §3) as lazy streams, and the time windows of
//! order reconciliation.

use futures_util::Stream;
use futures_util::stream::{self, TryStreamExt};
use serde_json::Value;
use tts_core::{Error, ErrorCode, Result};

use super::{CallInput, Shop};
use crate::operations::Operation;
use crate::sign::QueryValue;

/// One page of a search.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    /// `None` on the last page.
    pub next_page_token: Option<String>,
    pub total_count: Option<u64>,
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

/// Reads a page out of a search answer's `data`.
pub fn page_from(operation: &Operation, mut data: Value) -> Result<Page> {
    let field = items_field(operation).ok_or_else(|| {
        Error::invalid_argument("operation", format!("{} is not a paginated search", operation.id))
    })?;
    let items = match data.get_mut(field).map(Value::take) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                format!("`data.{field}` is not a list"),
            )
            .with_field(format!("data.{field}")));
        }
    };
    let next_page_token = data
        .get("next_page_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let total_count = data.get("total_count").and_then(Value::as_u64);
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
        page_from(operation, envelope.data)
    }

    /// Every item of a search, page after page, fetched lazily as the stream is read.
    pub fn paginate(
        &self,
        operation: &'static Operation,
        input: CallInput,
        page_size: u32,
    ) -> impl Stream<Item = Result<Value>> + Send + 'static {
        let shop = self.clone();
        let pages = stream::try_unfold(Some(None::<String>), move |state| {
            let shop = shop.clone();
            let input = input.clone();
            async move {
                let Some(token) = state else { return Ok(None) };
                let page = shop
                    .fetch_page(operation, input, page_size, token.as_deref())
                    .await?;
                let next = page.next_page_token.clone().map(Some);
                Ok(Some((page.items, next)))
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

    #[test]
    fn pages_are_read_from_the_operation_field() {
        let op = Operation::find("returns.search").unwrap();
        let page = page_from(op, serde_json::json!({"return_orders": [{"return_id": "1"}], "next_page_token": "t+/=", "total_count": 3})).unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next_page_token.as_deref(), Some("t+/="));
        let last = page_from(op, serde_json::json!({"next_page_token": ""})).unwrap();
        assert_eq!((last.items.len(), last.next_page_token), (0, None));
        assert!(page_from(Operation::find("orders.get").unwrap(), serde_json::json!({})).is_err());
        assert_eq!(
            page_from(op, serde_json::json!({"return_orders": 5}))
                .unwrap_err()
                .code(),
            ErrorCode::InvalidResponse
        );
    }
}
