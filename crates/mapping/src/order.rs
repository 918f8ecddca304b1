//! TikTok order → PlentyONE contact, address and order create body.
//!
//! Decisions (see README):
//! - one PlentyONE order item per distinct (SKU, prices) with the units as quantity; the TikTok line
//!   item ids go into item property 16 (external token id, comma-separated) and the TikTok SKU id into
//!   property 17 (external item id), so shipments can name the lines;
//! - discounts ([`DiscountMode::CouponItems`], default): items at their original price, seller and
//!   platform discounts as two negative coupon items (type 4), so PlentyONE shows who paid for the
//!   discount; [`DiscountMode::NetItemPrice`] puts the discounted price on the item instead;
//! - shipping: one item of type 6 with what the buyer paid for shipping (`payment.shipping_fee`);
//! - the TikTok recipient address is used for billing and delivery (TikTok has no billing address);
//! - masked (`*`) or empty address fields are never filled in: they stay empty, the order gets
//!   status 1 "incomplete data" and an `ADDRESS_INCOMPLETE` warning says which fields are missing;
//! - amounts are exact decimals; items + shipping + fees − discounts must equal `total_amount`,
//!   else `AMOUNTS_DO_NOT_RECONCILE` (an error: do not import).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tts_plenty::model::{
    Address, AddressOption, AddressRelation, Contact, ContactOption, OrderCreate, OrderItem, OrderItemAmount,
    OrderRelation, Property, address_option_type, address_relation_type, contact_option, order_item_type,
    order_property_type, order_type,
};
use tts_tiktok::model::order::{LineItem, Order, OrderStatus, RecipientAddress};

use crate::address::{CountryTable, split_name, split_street, usable};
use crate::problem::{Problem, codes};
use crate::status::{StatusConfig, plenty_status, plenty_status::INCOMPLETE_DATA};

/// How TikTok discounts appear in PlentyONE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountMode {
    /// Items at the original price; seller and platform discounts as negative coupon items (type 4).
    #[default]
    CouponItems,
    /// Items at the price the buyer paid (TikTok `sale_price`); no coupon items.
    NetItemPrice,
}

/// Per-shop order import settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderMappingConfig {
    /// TikTok shop id: external order id = `<shop_id>_<order_id>` (property 7).
    pub shop_id: String,
    /// PlentyONE client (store) id.
    pub plenty_id: i64,
    /// The TikTok referrer created in PlentyONE (set on the order and on every item).
    pub referrer_id: Decimal,
    /// Document language (property 6) and contact language, e.g. `de`.
    pub language: String,
    pub status: StatusConfig,
    /// PlentyONE payment method id for TikTok payments (property 3).
    pub payment_method_id: Option<i64>,
    /// PlentyONE shipping profile id (property 2).
    pub shipping_profile_id: Option<i64>,
    /// PlentyONE shipping profile per TikTok delivery option (id or name, e.g. "Standard shipping");
    /// falls back to `shipping_profile_id`.
    pub shipping_profiles: std::collections::HashMap<String, i64>,
    pub owner_id: Option<i64>,
    pub discount_mode: DiscountMode,
    pub shipping_item_name: String,
    pub seller_discount_item_name: String,
    pub platform_discount_item_name: String,
    pub countries: CountryTable,
    /// PlentyONE system currency; when set, amounts say whether they are in it.
    pub system_currency: Option<String>,
    /// VAT settings passed through to every item (PlentyONE picks defaults when absent).
    pub country_vat_id: Option<i64>,
    pub vat_rate: Option<Decimal>,
}

impl Default for OrderMappingConfig {
    fn default() -> Self {
        OrderMappingConfig {
            shop_id: String::new(),
            plenty_id: 0,
            referrer_id: Decimal::ZERO,
            language: "de".into(),
            status: StatusConfig::default(),
            payment_method_id: None,
            shipping_profile_id: None,
            shipping_profiles: Default::default(),
            owner_id: None,
            discount_mode: DiscountMode::CouponItems,
            shipping_item_name: "Versandkosten".into(),
            seller_discount_item_name: "TikTok Shop Rabatt (Verkäufer)".into(),
            platform_discount_item_name: "TikTok Shop Rabatt (Plattform)".into(),
            countries: CountryTable::default(),
            system_currency: None,
            country_vat_id: None,
            vat_rate: None,
        }
    }
}

/// Finds the PlentyONE variation of a TikTok SKU (`seller_sku`, TikTok `sku_id`).
pub trait VariationLookup {
    fn variation_id(&self, seller_sku: &str, sku_id: &str) -> Option<i64>;
}

impl<F: Fn(&str, &str) -> Option<i64>> VariationLookup for F {
    fn variation_id(&self, seller_sku: &str, sku_id: &str) -> Option<i64> {
        self(seller_sku, sku_id)
    }
}

/// A payment to book on the order once it exists (`POST /rest/payments`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentDraft {
    pub amount: Decimal,
    pub currency: String,
    pub mop_id: Option<i64>,
    /// TikTok order id (property 45 payment transaction id / payment reference).
    pub transaction_id: String,
    /// Unix seconds.
    pub received_at: Option<i64>,
}

/// Everything to create in PlentyONE for one TikTok order, in this order: contact, address (used
/// as billing and delivery), order ([`MappedOrder::linked_order`]), payment.
#[derive(Clone, Debug, PartialEq)]
pub struct MappedOrder {
    /// `<shop_id>_<order_id>`: look it up first (`GET /rest/orders?externalOrderId=`), never import twice.
    pub external_order_id: String,
    pub contact: Contact,
    pub address: Address,
    /// False if a required address field was empty or masked (the order then has status 1).
    pub address_complete: bool,
    /// The order body without address and contact ids.
    pub order: OrderCreate,
    /// Set when TikTok says the order is paid (ON_HOLD up to COMPLETED; not UNPAID or CANCELLED).
    pub payment: Option<PaymentDraft>,
    pub currency: String,
    /// Texts to attach to the order as comments (`POST /rest/comments`), e.g. the buyer's message.
    pub comments: Vec<String>,
    /// Sum of all order items (== TikTok `total_amount` when there is no reconciliation problem).
    pub total: Decimal,
    pub problems: Vec<Problem>,
}

impl MappedOrder {
    /// The order body with the ids of the created contact and address.
    pub fn linked_order(
        &self,
        contact_id: i64,
        billing_address_id: i64,
        delivery_address_id: i64,
    ) -> OrderCreate {
        let mut order = self.order.clone();
        order.address_relations = vec![
            AddressRelation {
                type_id: address_relation_type::BILLING,
                address_id: billing_address_id,
            },
            AddressRelation {
                type_id: address_relation_type::DELIVERY,
                address_id: delivery_address_id,
            },
        ];
        order.relations = vec![OrderRelation {
            reference_type: "contact".into(),
            reference_id: contact_id,
            relation: "receiver".into(),
        }];
        order
    }
}

/// Maps a TikTok order. Never fails: problems are in [`MappedOrder::problems`]; import only when
/// [`crate::problem::has_errors`] is false.
pub fn map_order(order: &Order, config: &OrderMappingConfig, lookup: &dyn VariationLookup) -> MappedOrder {
    let mut problems = Vec::new();
    let external_order_id = format!("{}_{}", config.shop_id, order.id);

    let payment = order.payment.clone().unwrap_or_default();
    let currency = if !payment.currency.trim().is_empty() {
        payment.currency.trim().to_string()
    } else {
        order
            .line_items
            .iter()
            .map(|l| l.currency.trim())
            .find(|c| !c.is_empty())
            .unwrap_or("")
            .to_string()
    };
    if currency.is_empty() {
        problems.push(Problem::error(
            "payment.currency",
            codes::CURRENCY_MISSING,
            "the order has no currency",
        ));
    }

    let shipping_profile_id = [
        order.delivery_option_id.as_deref(),
        order.delivery_option_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(|key| config.shipping_profiles.get(key.trim()).copied())
    .or(config.shipping_profile_id);

    // Address and contact.
    let (address, missing) = map_address(
        order.recipient_address.as_ref(),
        &order.buyer_email,
        &config.countries,
        &mut problems,
    );
    let address_complete = missing.is_empty();
    if !address_complete {
        problems.push(Problem::warning(
            "recipient_address",
            codes::ADDRESS_INCOMPLETE,
            format!(
                "missing or masked: {} (status {}); the order is imported with status 1 \"incomplete data\" and updated when TikTok releases the address",
                missing.join(", "),
                order.status
            ),
        ));
    }
    let contact = Contact {
        type_id: 1,
        referrer_id: Some(config.referrer_id),
        plenty_id: Some(config.plenty_id),
        external_id: (!order.user_id.trim().is_empty()).then(|| order.user_id.trim().to_string()),
        first_name: address.name2.clone(),
        last_name: address.name3.clone(),
        lang: Some(config.language.clone()),
        options: match order.buyer_email.trim() {
            "" => Vec::new(),
            email => vec![ContactOption {
                type_id: contact_option::TYPE_EMAIL,
                sub_type_id: contact_option::SUB_TYPE_PRIVATE,
                value: email.to_string(),
                priority: 0,
            }],
        },
        ..Default::default()
    };

    // Items.
    if order.line_items.is_empty() {
        problems.push(Problem::error(
            "line_items",
            codes::LINE_ITEMS_MISSING,
            "the order has no line items",
        ));
    }
    let new_item =
        |type_id: i64, variation_id: i64, quantity: Decimal, name: String, unit: Decimal| OrderItem {
            type_id,
            item_variation_id: variation_id,
            quantity,
            order_item_name: name,
            referrer_id: Some(config.referrer_id),
            country_vat_id: config.country_vat_id,
            vat_rate: config.vat_rate,
            amounts: vec![OrderItemAmount {
                currency: currency.clone(),
                price_original_gross: unit,
                is_system_currency: config
                    .system_currency
                    .as_ref()
                    .map(|s| s.eq_ignore_ascii_case(&currency)),
                ..Default::default()
            }],
            ..Default::default()
        };

    // Lines cancelled in a partly cancelled order are not sold (the reconciliation below checks
    // that TikTok's totals agree); a fully cancelled order keeps its lines.
    let keep_cancelled = order.status == OrderStatus::Cancelled;
    let mut lines: Vec<(usize, &LineItem)> = Vec::with_capacity(order.line_items.len());
    for (i, line) in order.line_items.iter().enumerate() {
        if !keep_cancelled && line.display_status.trim().eq_ignore_ascii_case("CANCELLED") {
            problems.push(Problem::warning(
                format!("line_items[{i}]"),
                codes::LINE_ITEM_CANCELLED,
                format!(
                    "line {} ({}) is cancelled and not imported",
                    line.id, line.seller_sku
                ),
            ));
        } else {
            lines.push((i, line));
        }
    }
    let groups = group_lines(&lines, config.discount_mode, &mut problems);
    let mut items = Vec::with_capacity(groups.len() + 4);
    let mut seller_discount = Decimal::ZERO;
    let mut platform_discount = Decimal::ZERO;
    for group in &groups {
        let line = group.first_line;
        seller_discount += group.seller_discount;
        platform_discount += group.platform_discount;
        let name = item_name(line);
        let (type_id, variation_id, name) = match lookup.variation_id(&line.seller_sku, &line.sku_id) {
            Some(id) if id > 0 => (order_item_type::VARIATION, id, name),
            _ => {
                problems.push(Problem::warning(
                    format!("line_items[{}]", group.first_index),
                    codes::SKU_UNMATCHED,
                    format!(
                        "TikTok SKU {} (seller_sku {:?}) has no PlentyONE variation; imported as unassigned item (type 9)",
                        line.sku_id, line.seller_sku
                    ),
                ));
                let name = if line.seller_sku.trim().is_empty() {
                    name
                } else {
                    format!("{name} (SKU {})", line.seller_sku.trim())
                };
                (order_item_type::UNASSIGNED_VARIATION, 0, name)
            }
        };
        let mut item = new_item(
            type_id,
            variation_id,
            Decimal::from(group.units),
            name,
            group.unit_price,
        );
        item.shipping_profile_id = shipping_profile_id;
        item.properties = vec![
            Property::new(order_property_type::EXTERNAL_ITEM_ID, line.sku_id.clone()),
            Property::new(order_property_type::EXTERNAL_TOKEN_ID, group.line_ids.join(",")),
        ];
        items.push(item);
    }

    let mut amount = |path: &str, value: &Option<String>| parse_money(path, value.as_deref(), &mut problems);
    let shipping = amount("payment.shipping_fee", &payment.shipping_fee);
    let total_amount = amount("payment.total_amount", &payment.total_amount);
    let fees: Vec<(&str, Option<Decimal>)> = vec![
        (
            "TikTok Shop: small order fee",
            amount("payment.small_order_fee", &payment.small_order_fee),
        ),
        (
            "TikTok Shop: retail delivery fee",
            amount("payment.retail_delivery_fee", &payment.retail_delivery_fee),
        ),
        (
            "TikTok Shop: buyer service fee",
            amount("payment.buyer_service_fee", &payment.buyer_service_fee),
        ),
        (
            "TikTok Shop: handling fee",
            amount("payment.handling_fee", &payment.handling_fee),
        ),
    ];
    let tax = amount("payment.tax", &payment.tax);

    if config.discount_mode == DiscountMode::CouponItems {
        for (value, name) in [
            (seller_discount, &config.seller_discount_item_name),
            (platform_discount, &config.platform_discount_item_name),
        ] {
            if value != Decimal::ZERO {
                items.push(new_item(
                    order_item_type::PROMOTIONAL_COUPON,
                    0,
                    Decimal::ONE,
                    name.clone(),
                    -value,
                ));
            }
        }
    }
    if let Some(shipping) = shipping {
        items.push(new_item(
            order_item_type::SHIPPING_COSTS,
            0,
            Decimal::ONE,
            config.shipping_item_name.clone(),
            shipping,
        ));
    }
    for (name, fee) in fees {
        if let Some(fee) = fee.filter(|f| !f.is_zero()) {
            items.push(new_item(
                order_item_type::UNASSIGNED_VARIATION,
                0,
                Decimal::ONE,
                name.to_string(),
                fee,
            ));
        }
    }

    // Reconcile with what the buyer paid.
    let mut total = sum_items(&items);
    match total_amount {
        None => problems.push(Problem::error(
            "payment.total_amount",
            codes::AMOUNT_INVALID,
            "the order has no total_amount",
        )),
        Some(expected) if expected != total => {
            // US: sales tax comes on top of the prices.
            if let Some(tax) = tax.filter(|t| !t.is_zero() && expected - total == *t) {
                items.push(new_item(
                    order_item_type::UNASSIGNED_VARIATION,
                    0,
                    Decimal::ONE,
                    "TikTok Shop: sales tax".into(),
                    tax,
                ));
                total = sum_items(&items);
            } else {
                problems.push(Problem::error(
                    "payment.total_amount",
                    codes::AMOUNTS_DO_NOT_RECONCILE,
                    format!(
                        "items + shipping + fees − discounts = {total} {currency}, but TikTok's total_amount is {expected} (difference {}); check the order's discounts and taxes",
                        expected - total
                    ),
                ));
            }
        }
        Some(_) => {}
    }

    // Header.
    let status_id = if address_complete {
        plenty_status(&order.status, &config.status)
    } else {
        Some(INCOMPLETE_DATA)
    };
    let mut properties = vec![
        Property::new(order_property_type::EXTERNAL_ORDER_ID, external_order_id.clone()),
        Property::new(order_property_type::DOCUMENT_LANGUAGE, config.language.clone()),
    ];
    if let Some(id) = config.payment_method_id {
        properties.push(Property::new(order_property_type::PAYMENT_METHOD, id.to_string()));
    }
    if let Some(id) = shipping_profile_id {
        properties.push(Property::new(
            order_property_type::SHIPPING_PROFILE,
            id.to_string(),
        ));
    }
    let order_body = OrderCreate {
        type_id: order_type::SALES_ORDER,
        plenty_id: config.plenty_id,
        status_id,
        owner_id: config.owner_id,
        referrer_id: Some(config.referrer_id),
        currency: (!currency.is_empty()).then(|| currency.clone()),
        order_items: items,
        properties,
        ..Default::default()
    };
    // Paid and not cancelled: a cancelled order is refunded by TikTok, so no payment is booked.
    let paid = !matches!(
        order.status,
        OrderStatus::Unpaid | OrderStatus::Cancelled | OrderStatus::Unknown(_) | OrderStatus::Missing
    );
    let payment = match (paid, total_amount) {
        (true, Some(amount)) => Some(PaymentDraft {
            amount,
            currency: currency.clone(),
            mop_id: config.payment_method_id,
            transaction_id: order.id.clone(),
            received_at: order.paid_time,
        }),
        _ => None,
    };

    let mut comments = Vec::new();
    if !order.buyer_message.trim().is_empty() {
        comments.push(format!(
            "TikTok Shop buyer message: {}",
            order.buyer_message.trim()
        ));
    }
    if order.is_on_hold_order || order.status == OrderStatus::OnHold {
        comments.push(
            "TikTok Shop: the order was ON_HOLD at import; the address follows when TikTok releases it"
                .to_string(),
        );
    }

    MappedOrder {
        external_order_id,
        comments,
        contact,
        address,
        address_complete,
        order: order_body,
        payment,
        currency,
        total,
        problems,
    }
}

fn sum_items(items: &[OrderItem]) -> Decimal {
    items
        .iter()
        .map(|i| {
            i.quantity
                * i.amounts
                    .first()
                    .map(|a| a.price_original_gross)
                    .unwrap_or_default()
        })
        .sum()
}

fn item_name(line: &LineItem) -> String {
    let product = line.product_name.trim();
    let sku = line.sku_name.trim();
    if sku.is_empty() || sku.eq_ignore_ascii_case("default") {
        product.to_string()
    } else {
        format!("{product} - {sku}")
    }
}

/// Largest amount accepted from TikTok (far above any real order).
const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0); // 10^12

fn parse_money(path: &str, value: Option<&str>, problems: &mut Vec<Problem>) -> Option<Decimal> {
    let text = value?.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<Decimal>() {
        // Bounded so sums and products of amounts can never overflow the decimal type.
        Ok(d) if d.abs() <= MAX_AMOUNT && d.scale() <= 8 => Some(d),
        _ => {
            problems.push(Problem::error(
                path,
                codes::AMOUNT_INVALID,
                format!("{text:?} is not a decimal amount (at most 10^12, 8 decimals)"),
            ));
            None
        }
    }
}

struct LineGroup<'a> {
    first_index: usize,
    first_line: &'a LineItem,
    line_ids: Vec<String>,
    units: u64,
    unit_price: Decimal,
    seller_discount: Decimal,
    platform_discount: Decimal,
}

/// Groups identical units (same SKU, same prices) into one item. Every unit keeps its exact prices.
fn group_lines<'a>(
    lines: &[(usize, &'a LineItem)],
    mode: DiscountMode,
    problems: &mut Vec<Problem>,
) -> Vec<LineGroup<'a>> {
    let mut groups: Vec<(Vec<&str>, LineGroup<'a>)> = Vec::new();
    for &(i, line) in lines {
        let path = |field: &str| format!("line_items[{i}].{field}");
        let sale = parse_money(&path("sale_price"), Some(&line.sale_price), problems);
        let original = parse_money(&path("original_price"), Some(&line.original_price), problems);
        let seller = parse_money(
            &path("seller_discount"),
            line.seller_discount.as_deref(),
            problems,
        );
        let platform = parse_money(
            &path("platform_discount"),
            line.platform_discount.as_deref(),
            problems,
        );
        let has_discount_fields = seller.is_some() || platform.is_some();
        // Items at the original price only when TikTok says which discounts make up the difference;
        // otherwise at what the buyer paid (nothing is guessed).
        let (unit, seller, platform) = match (mode, has_discount_fields, original, sale) {
            (DiscountMode::CouponItems, true, Some(original), _) => {
                (original, seller.unwrap_or_default(), platform.unwrap_or_default())
            }
            (_, _, _, Some(sale)) => (sale, Decimal::ZERO, Decimal::ZERO),
            (_, _, Some(original), None) => (original, Decimal::ZERO, Decimal::ZERO),
            _ => {
                problems.push(Problem::error(
                    path("sale_price"),
                    codes::AMOUNT_INVALID,
                    "the line item has no price",
                ));
                (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
            }
        };
        // 202309 lines are single units; a quantity, if sent, is bounded so products cannot overflow.
        let units = match line.quantity {
            Some(q) if q > 100_000 => {
                problems.push(Problem::error(
                    path("quantity"),
                    codes::AMOUNT_INVALID,
                    format!("quantity {q} is implausible"),
                ));
                1
            }
            Some(q) if q > 0 => q,
            _ => 1,
        };
        let key = vec![
            line.sku_id.as_str(),
            line.seller_sku.as_str(),
            line.product_name.as_str(),
            line.sku_name.as_str(),
            line.sale_price.as_str(),
            line.original_price.as_str(),
            line.seller_discount.as_deref().unwrap_or(""),
            line.platform_discount.as_deref().unwrap_or(""),
        ];

        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => {
                if !g.line_ids.contains(&line.id) {
                    g.line_ids.push(line.id.clone());
                }
                g.units += units as u64;
                g.seller_discount += seller * Decimal::from(units);
                g.platform_discount += platform * Decimal::from(units);
            }
            None => groups.push((
                key,
                LineGroup {
                    first_index: i,
                    first_line: line,
                    line_ids: vec![line.id.clone()],
                    units: units as u64,
                    unit_price: unit,
                    seller_discount: seller * Decimal::from(units),
                    platform_discount: platform * Decimal::from(units),
                },
            )),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// Town from TikTok's district levels.
fn town_of(address: &RecipientAddress) -> Option<&str> {
    const TOWN_LEVELS: &[&str] = &["city", "post town", "town", "municipality", "locality"];
    TOWN_LEVELS.iter().find_map(|level| {
        address
            .district_info
            .iter()
            .find(|d| d.address_level_name.trim().eq_ignore_ascii_case(level))
            .and_then(|d| usable(&d.address_name))
    })
}

/// The PlentyONE address and the list of required fields that were missing or masked.
fn map_address(
    recipient: Option<&RecipientAddress>,
    buyer_email: &str,
    countries: &CountryTable,
    problems: &mut Vec<Problem>,
) -> (Address, Vec<&'static str>) {
    let empty = RecipientAddress::default();
    let r = recipient.unwrap_or(&empty);
    let mut missing = Vec::new();

    let (first, last) = match (usable(&r.first_name), usable(&r.last_name)) {
        (None, None) => usable(&r.name).map(split_name).unwrap_or_default(),
        (first, last) => (first.unwrap_or("").to_string(), last.unwrap_or("").to_string()),
    };
    if first.is_empty() && last.is_empty() {
        missing.push("name");
    }

    let street_line = usable(&r.address_line1).or_else(|| usable(&r.address_detail));
    let parts = street_line.map(split_street).unwrap_or_default();
    if parts.street.is_empty() {
        missing.push("street");
    }
    let mut extra: Vec<&str> = Vec::new();
    if !parts.additional.is_empty() {
        extra.push(&parts.additional);
    }
    for line in [&r.address_line2, &r.address_line3, &r.address_line4] {
        if let Some(l) = usable(line)
            && !extra.contains(&l)
        {
            extra.push(l);
        }
    }

    let postal_code = usable(&r.postal_code).unwrap_or("").to_string();
    if postal_code.is_empty() {
        missing.push("postal_code");
    }
    let town = town_of(r).unwrap_or("").to_string();
    if town.is_empty() {
        missing.push("town");
    }
    let country_id = match usable(&r.region_code) {
        Some(code) => {
            let id = countries.country_id(code);
            if id.is_none() {
                problems.push(Problem::error(
                    "recipient_address.region_code",
                    codes::COUNTRY_UNMAPPED,
                    format!("no PlentyONE country id for {code:?}; add it to the country table"),
                ));
            }
            id
        }
        None => {
            missing.push("country");
            None
        }
    };

    let mut options = Vec::new();
    if let Some(phone) = usable(&r.phone_number) {
        options.push(AddressOption {
            type_id: address_option_type::TELEPHONE,
            value: phone.to_string(),
        });
    }
    if !buyer_email.trim().is_empty() {
        // TikTok's anonymised relay address, kept as received.
        options.push(AddressOption {
            type_id: address_option_type::EMAIL,
            value: buyer_email.trim().to_string(),
        });
    }

    let address = Address {
        name2: first,
        name3: last,
        address1: parts.street,
        address2: parts.house_number,
        address3: extra.join(", "),
        postal_code,
        town,
        country_id,
        options,
        ..Default::default()
    };
    (address, missing)
}
