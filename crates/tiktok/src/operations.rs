//! The operation table: the single source of truth for every TikTok Shop API call we make.
//!
//! Each entry says how to call the operation (method, path, body kind), whether it takes `shop_cipher`
//! (sending it where it is not taken is rejected with 36009004, spec §1.1), whether a failed attempt may
//! be retried, and the page size bounds of paginated searches. The request builder, the client's retry
//! policy and the tests all read this table; nothing else decides these questions.

/// HTTP method of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// Whether the operation takes the `shop_cipher` query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShopCipher {
    /// Sent whenever the shop has one (required for cross-border shops, optional for local ones).
    Takes,
    /// Never sent: the endpoint rejects it (spec §1.1).
    Rejects,
}

/// Where an operation's idempotency key goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLocation {
    /// `idempotency_key` query parameter (returns and cancellations).
    Query,
    /// `idempotency_key` field of the JSON body (product create).
    Body,
}

/// Whether an attempt that failed without a definite answer (timeout, 5xx, 429) may be sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetrySafety {
    /// Reads, and writes that set an absolute state (edit, inventory/price update, activate...).
    Safe,
    /// Safe only when the request carries an idempotency key.
    WithIdempotencyKey(KeyLocation),
    /// A second attempt could act twice (ship, create a package, create a brand), or the operation takes
    /// no idempotency key and a lost answer must be checked before anything is sent again (seller cancel).
    Unsafe,
}

/// How the request body is encoded (and whether it is signed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body is sent (every GET; also `cancellations.approve`, a POST whose body the SDK leaves out).
    None,
    /// `application/json`; the exact bytes are signed.
    Json,
    /// `multipart/form-data`; never signed.
    Multipart,
}

/// One API operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// Stable name, `area.action` (what JS passes as `operation`).
    pub id: &'static str,
    pub method: Method,
    /// Path with `{param}` placeholders.
    pub path: &'static str,
    pub shop_cipher: ShopCipher,
    pub retry: RetrySafety,
    pub body: BodyKind,
    /// `page_size` bounds (inclusive) for paginated operations.
    pub page_size: Option<(u32, u32)>,
}

impl Operation {
    /// The API version, read from the path (`/{area}/{version}/...`).
    pub fn version(&self) -> &'static str {
        self.path.split('/').nth(2).unwrap_or("")
    }

    /// The `{param}` names in the path, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }

    /// Looks an operation up by id.
    pub fn find(id: &str) -> Option<&'static Operation> {
        OPERATIONS.iter().find(|op| op.id == id)
    }
}

use BodyKind::{Json, Multipart, None as NoBody};
use KeyLocation::{Body as KeyInBody, Query as KeyInQuery};
use Method::{Delete, Get, Post, Put};
use RetrySafety::{Safe, Unsafe, WithIdempotencyKey};
use ShopCipher::{Rejects, Takes};

const fn op(
    id: &'static str,
    method: Method,
    path: &'static str,
    shop_cipher: ShopCipher,
    retry: RetrySafety,
    body: BodyKind,
    page_size: Option<(u32, u32)>,
) -> Operation {
    Operation {
        id,
        method,
        path,
        shop_cipher,
        retry,
        body,
        page_size,
    }
}

/// Every operation, grouped by API area (spec §4).
#[rustfmt::skip]
pub static OPERATIONS: &[Operation] = &[
    // authorization / seller
    op("authorization.shops", Get, "/authorization/202309/shops", Rejects, Safe, NoBody, None),
    op("seller.shops", Get, "/seller/202309/shops", Rejects, Safe, NoBody, None),
    op("seller.permissions", Get, "/seller/202309/permissions", Rejects, Safe, NoBody, None),
    // products
    op("products.search", Post, "/product/202309/products/search", Takes, Safe, Json, Some((1, 100))),
    op("products.get", Get, "/product/202309/products/{product_id}", Takes, Safe, NoBody, None),
    op("products.create", Post, "/product/202309/products", Takes, WithIdempotencyKey(KeyInBody), Json, None),
    op("products.edit", Put, "/product/202309/products/{product_id}", Takes, Safe, Json, None),
    op("products.partial_edit", Post, "/product/202309/products/{product_id}/partial_edit", Takes, Safe, Json, None),
    op("products.delete", Delete, "/product/202309/products", Takes, Safe, Json, None),
    op("products.activate", Post, "/product/202309/products/activate", Takes, Safe, Json, None),
    op("products.deactivate", Post, "/product/202309/products/deactivate", Takes, Safe, Json, None),
    op("products.recover", Post, "/product/202309/products/recover", Takes, Safe, Json, None),
    op("products.listing_check", Post, "/product/202309/products/listing_check", Takes, Safe, Json, None),
    op("images.upload", Post, "/product/202309/images/upload", Rejects, Safe, Multipart, None),
    op("files.upload", Post, "/product/202309/files/upload", Rejects, Safe, Multipart, None),
    op("categories.list", Get, "/product/202309/categories", Takes, Safe, NoBody, None),
    op("categories.attributes", Get, "/product/202309/categories/{category_id}/attributes", Takes, Safe, NoBody, None),
    op("categories.rules", Get, "/product/202309/categories/{category_id}/rules", Takes, Safe, NoBody, None),
    op("categories.recommend", Post, "/product/202309/categories/recommend", Takes, Safe, Json, None),
    op("brands.list", Get, "/product/202309/brands", Takes, Safe, NoBody, Some((1, 100))),
    op("brands.create", Post, "/product/202309/brands", Rejects, Unsafe, Json, None),
    op("inventory.update", Post, "/product/202309/products/{product_id}/inventory/update", Takes, Safe, Json, None),
    op("inventory.search", Post, "/product/202309/inventory/search", Takes, Safe, Json, None),
    op("prices.update", Post, "/product/202309/products/{product_id}/prices/update", Takes, Safe, Json, None),
    // orders
    op("orders.search", Post, "/order/202309/orders/search", Takes, Safe, Json, Some((1, 100))),
    op("orders.get", Get, "/order/202309/orders", Takes, Safe, NoBody, None),
    // fulfillment
    op("packages.search", Post, "/fulfillment/202309/packages/search", Takes, Safe, Json, Some((1, 50))),
    op("packages.get", Get, "/fulfillment/202309/packages/{package_id}", Takes, Safe, NoBody, None),
    op("packages.ship", Post, "/fulfillment/202309/packages/{package_id}/ship", Takes, Unsafe, Json, None),
    op("packages.batch_ship", Post, "/fulfillment/202309/packages/ship", Takes, Unsafe, Json, None),
    op("packages.shipping_documents", Get, "/fulfillment/202309/packages/{package_id}/shipping_documents", Takes, Safe, NoBody, None),
    op("packages.update_shipping_info", Post, "/fulfillment/202309/packages/{package_id}/shipping_info/update", Takes, Unsafe, Json, None),
    op("orders.mark_shipped", Post, "/fulfillment/202309/orders/{order_id}/packages", Takes, Unsafe, Json, None),
    op("orders.tracking", Get, "/fulfillment/202309/orders/{order_id}/tracking", Takes, Safe, NoBody, None),
    op("orders.update_shipping_info", Post, "/fulfillment/202309/orders/{order_id}/shipping_info/update", Takes, Unsafe, Json, None),
    // logistics
    op("logistics.warehouses", Get, "/logistics/202309/warehouses", Takes, Safe, NoBody, None),
    op("logistics.delivery_options", Get, "/logistics/202309/warehouses/{warehouse_id}/delivery_options", Takes, Safe, NoBody, None),
    op("logistics.shipping_providers", Get, "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers", Takes, Safe, NoBody, None),
    op("logistics.global_warehouses", Get, "/logistics/202309/global_warehouses", Rejects, Safe, NoBody, None),
    // returns and cancellations
    op("returns.search", Post, "/return_refund/202309/returns/search", Takes, Safe, Json, Some((10, 50))),
    op("returns.approve", Post, "/return_refund/202309/returns/{return_id}/approve", Takes, WithIdempotencyKey(KeyInQuery), Json, None),
    op("returns.reject", Post, "/return_refund/202309/returns/{return_id}/reject", Takes, WithIdempotencyKey(KeyInQuery), Json, None),
    op("returns.records", Get, "/return_refund/202309/returns/{return_id}/records", Takes, Safe, NoBody, None),
    op("cancellations.search", Post, "/return_refund/202309/cancellations/search", Takes, Safe, Json, Some((1, 50))),
    op("cancellations.approve", Post, "/return_refund/202309/cancellations/{cancel_id}/approve", Takes, WithIdempotencyKey(KeyInQuery), NoBody, None),
    op("cancellations.reject", Post, "/return_refund/202309/cancellations/{cancel_id}/reject", Takes, WithIdempotencyKey(KeyInQuery), Json, None),
    op("cancellations.create", Post, "/return_refund/202309/cancellations", Takes, Unsafe, Json, None),
    // events (webhook subscriptions per shop)
    op("webhooks.list", Get, "/event/202309/webhooks", Takes, Safe, NoBody, None),
    op("webhooks.update", Put, "/event/202309/webhooks", Takes, Safe, Json, None),
    op("webhooks.delete", Delete, "/event/202309/webhooks", Takes, Safe, Json, None),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_and_routes_are_unique_and_well_formed() {
        let mut ids = HashSet::new();
        let mut routes = HashSet::new();
        for op in OPERATIONS {
            assert!(ids.insert(op.id), "duplicate id {}", op.id);
            assert!(
                routes.insert((op.method, op.path)),
                "duplicate route {} {}",
                op.method.as_str(),
                op.path
            );
            assert!(op.path.starts_with('/') && !op.path.ends_with('/'), "{}", op.path);
            let version = op.version();
            assert!(
                version.len() == 6 && version.bytes().all(|b| b.is_ascii_digit()),
                "{}: {version}",
                op.id
            );
            if op.method == Method::Get {
                assert_eq!(op.body, BodyKind::None, "{}: GET carries no body", op.id);
            }
            if let Some((lo, hi)) = op.page_size {
                assert!(lo >= 1 && lo <= hi, "{}", op.id);
            }
        }
    }

    #[test]
    fn operations_that_reject_the_cipher_are_exactly_the_documented_ones() {
        // spec §1.1: authorization, seller, image/file upload, POST brands, global_* reject shop_cipher.
        let rejecting: HashSet<&str> = OPERATIONS
            .iter()
            .filter(|o| o.shop_cipher == ShopCipher::Rejects)
            .map(|o| o.id)
            .collect();
        let expected: HashSet<&str> = [
            "authorization.shops",
            "seller.shops",
            "seller.permissions",
            "images.upload",
            "files.upload",
            "brands.create",
            "logistics.global_warehouses",
        ]
        .into();
        assert_eq!(rejecting, expected);
    }

    #[test]
    fn writes_that_could_act_twice_are_never_blindly_retried() {
        for id in [
            "packages.ship",
            "packages.batch_ship",
            "orders.mark_shipped",
            "brands.create",
            "cancellations.create",
        ] {
            assert_eq!(Operation::find(id).unwrap().retry, RetrySafety::Unsafe, "{id}");
        }
        for id in [
            "returns.approve",
            "returns.reject",
            "cancellations.approve",
            "cancellations.reject",
        ] {
            assert_eq!(
                Operation::find(id).unwrap().retry,
                RetrySafety::WithIdempotencyKey(KeyLocation::Query)
            );
        }
        assert_eq!(
            Operation::find("products.create").unwrap().retry,
            RetrySafety::WithIdempotencyKey(KeyLocation::Body)
        );
        let multipart: Vec<_> = OPERATIONS
            .iter()
            .filter(|o| o.body == BodyKind::Multipart)
            .map(|o| o.id)
            .collect();
        assert_eq!(multipart, ["images.upload", "files.upload"]);
    }

    #[test]
    fn path_params_are_listed_in_order() {
        let op = Operation::find("logistics.shipping_providers").unwrap();
        assert_eq!(op.path_params().collect::<Vec<_>>(), ["delivery_option_id"]);
        assert_eq!(Operation::find("orders.search").unwrap().path_params().count(), 0);
    }
}
