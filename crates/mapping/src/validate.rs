//! Pre-flight validation of a TikTok product body: every rule runs, every problem is returned with
//! its field path. Never panics, whatever the strings contain.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use tts_tiktok::model::product::{AttributeKind, CategoryAttributes, ProductRequest, SalesAttribute};

use crate::problem::{Problem, codes};
use crate::product::identifier_code_is_valid;
use crate::region::*;

/// Create or edit: TikTok wants stock ≥ 1 on create, 0 is fine on edits and inventory updates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteMode {
    #[default]
    Create,
    Edit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationRules {
    pub region: RegionRules,
    /// The shop currency every price must be in.
    pub currency: Option<String>,
    pub mode: WriteMode,
    /// Smallest quantity accepted on create (1: the current Create Product reference bounds
    /// inventory to [1, 99,999]; an older copy of the reference allowed 0).
    pub create_quantity_min: u32,
}

impl ValidationRules {
    pub fn new(region: &str, currency: Option<&str>, mode: WriteMode) -> Self {
        ValidationRules {
            region: RegionRules::for_region(region),
            currency: currency.map(str::to_string),
            mode,
            create_quantity_min: 1,
        }
    }
}

/// All problems of `product` against the region rules and, when given, the category's attributes
/// (TikTok's Get Attributes answer).
pub fn validate_product(
    product: &ProductRequest,
    rules: &ValidationRules,
    attributes: Option<&CategoryAttributes>,
) -> Vec<Problem> {
    let mut p = Vec::new();
    validate_title(&product.title, &rules.region, &mut p);
    validate_description(&product.description, &mut p);

    if product.category_id.trim().is_empty() {
        p.push(Problem::error(
            "category_id",
            codes::CATEGORY_MISSING,
            "no TikTok category; map the item's PlentyONE category",
        ));
    }
    if product.main_images.is_empty() {
        p.push(Problem::error(
            "main_images",
            codes::MAIN_IMAGES_MISSING,
            "at least 1 main image is required",
        ));
    } else if product.main_images.len() > MAX_MAIN_IMAGES {
        p.push(Problem::error(
            "main_images",
            codes::MAIN_IMAGES_TOO_MANY,
            format!(
                "{} main images; at most {MAX_MAIN_IMAGES}",
                product.main_images.len()
            ),
        ));
    }
    for (i, img) in product.main_images.iter().enumerate() {
        if img.uri.trim().is_empty() {
            p.push(Problem::error(
                format!("main_images[{i}].uri"),
                codes::IMAGE_NOT_UPLOADED,
                "image uri is empty",
            ));
        }
    }

    validate_skus(product, rules, &mut p);
    validate_package(product, rules, &mut p);
    if let Some(attributes) = attributes {
        validate_required_attributes(product, attributes, &mut p);
    }
    if let Some(key) = &product.idempotency_key
        && key.chars().count() > MAX_IDEMPOTENCY_KEY
    {
        p.push(Problem::error(
            "idempotency_key",
            codes::IDEMPOTENCY_KEY_TOO_LONG,
            format!("at most {MAX_IDEMPOTENCY_KEY} chars"),
        ));
    }
    p
}

fn validate_title(title: &str, region: &RegionRules, p: &mut Vec<Problem>) {
    let len = title.chars().count();
    if title.trim().is_empty() {
        p.push(Problem::error(
            "title",
            codes::TITLE_MISSING,
            "the title is empty",
        ));
    } else if len < region.title_min || len > region.title_max {
        p.push(Problem::error(
            "title",
            codes::TITLE_LENGTH,
            format!(
                "{len} characters; {} allows {}–{}",
                region.region, region.title_min, region.title_max
            ),
        ));
    }
    let bad: Vec<String> = title
        .chars()
        .filter(|c| is_emoji(*c) || c.is_control())
        .take(5)
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    if !bad.is_empty() {
        p.push(Problem::error(
            "title",
            codes::TITLE_INVALID_CHARS,
            format!("emoji or control characters: {}", bad.join(", ")),
        ));
    }
    if has_html_escape(title) {
        p.push(Problem::error(
            "title",
            codes::TITLE_INVALID_CHARS,
            "HTML escapes (like &amp;) are not allowed; write the character",
        ));
    }
    if !title.trim().is_empty() && !title.chars().any(char::is_alphanumeric) {
        p.push(Problem::error(
            "title",
            codes::TITLE_INVALID_CHARS,
            "the title has only symbols",
        ));
    }
    if longest_run(title) > MAX_REPEATED_TITLE_CHARS {
        p.push(Problem::error(
            "title",
            codes::TITLE_REPEATED_CHARS,
            format!("more than {MAX_REPEATED_TITLE_CHARS} identical characters in a row"),
        ));
    }
}

fn validate_description(description: &str, p: &mut Vec<Problem>) {
    let len = description.chars().count();
    if len > MAX_DESCRIPTION {
        p.push(Problem::error(
            "description",
            codes::DESCRIPTION_TOO_LONG,
            format!("{len} characters; at most {MAX_DESCRIPTION}"),
        ));
    }
    let images = description.to_ascii_lowercase().matches("<img").count();
    if images > MAX_DESCRIPTION_IMAGES {
        p.push(Problem::error(
            "description",
            codes::DESCRIPTION_TOO_MANY_IMAGES,
            format!("{images} <img> tags; at most {MAX_DESCRIPTION_IMAGES}"),
        ));
    }
}

fn validate_skus(product: &ProductRequest, rules: &ValidationRules, p: &mut Vec<Problem>) {
    let skus = &product.skus;
    if skus.is_empty() {
        p.push(Problem::error(
            "skus",
            codes::SKUS_MISSING,
            "at least 1 SKU is required",
        ));
        return;
    }
    if skus.len() > rules.region.max_skus {
        p.push(Problem::error(
            "skus",
            codes::SKUS_TOO_MANY,
            format!(
                "{} SKUs; {} allows at most {}",
                skus.len(),
                rules.region.region,
                rules.region.max_skus
            ),
        ));
    }

    let mut seen_sellers: HashMap<&str, usize> = HashMap::new();
    for (i, sku) in skus.iter().enumerate() {
        let path = format!("skus[{i}]");
        let seller = sku.seller_sku.as_str();
        let len = seller.chars().count();
        if seller.is_empty() {
            p.push(Problem::error(
                format!("{path}.seller_sku"),
                codes::SELLER_SKU_MISSING,
                "seller_sku is empty",
            ));
        } else {
            if len > MAX_SELLER_SKU {
                p.push(Problem::error(
                    format!("{path}.seller_sku"),
                    codes::SELLER_SKU_TOO_LONG,
                    format!("{len} characters; at most {MAX_SELLER_SKU}"),
                ));
            }
            if seller.chars().any(char::is_whitespace) {
                p.push(Problem::error(
                    format!("{path}.seller_sku"),
                    codes::SELLER_SKU_HAS_SPACE,
                    format!("{seller:?} contains a space"),
                ));
            }
            if let Some(first) = seen_sellers.insert(seller, i) {
                p.push(Problem::error(
                    format!("{path}.seller_sku"),
                    codes::SELLER_SKU_DUPLICATE,
                    format!("{seller:?} is also used by skus[{first}]"),
                ));
            }
        }

        match &sku.price {
            None if rules.mode == WriteMode::Create => {
                p.push(Problem::error(
                    format!("{path}.price"),
                    codes::PRICE_MISSING,
                    "no price",
                ));
            }
            None => {}
            Some(price) => {
                match price.amount.trim().parse::<Decimal>() {
                    Ok(amount) if amount <= Decimal::ZERO => p.push(Problem::error(
                        format!("{path}.price.amount"),
                        codes::PRICE_NOT_POSITIVE,
                        format!("{amount} is not above 0"),
                    )),
                    Ok(_) => {}
                    Err(_) => p.push(Problem::error(
                        format!("{path}.price.amount"),
                        codes::PRICE_INVALID,
                        format!("{:?} is not a decimal number", price.amount),
                    )),
                }
                if let Some(currency) = &rules.currency
                    && !price.currency.eq_ignore_ascii_case(currency)
                {
                    p.push(Problem::error(
                        format!("{path}.price.currency"),
                        codes::CURRENCY_MISMATCH,
                        format!("{:?}; the shop sells in {currency}", price.currency),
                    ));
                }
            }
        }

        if sku.inventory.is_empty() && rules.mode == WriteMode::Create {
            p.push(Problem::error(
                format!("{path}.inventory"),
                codes::INVENTORY_MISSING,
                "no warehouse quantity; map a PlentyONE warehouse to a TikTok warehouse",
            ));
        }
        for (w, inv) in sku.inventory.iter().enumerate() {
            let ipath = format!("{path}.inventory[{w}].quantity");
            if inv.quantity > MAX_QUANTITY {
                p.push(Problem::error(
                    ipath,
                    codes::QUANTITY_OUT_OF_RANGE,
                    format!("{}; at most {MAX_QUANTITY}", inv.quantity),
                ));
            } else if inv.quantity < rules.create_quantity_min && rules.mode == WriteMode::Create {
                p.push(Problem::error(
                    ipath,
                    codes::QUANTITY_ZERO_ON_CREATE,
                    "TikTok needs a quantity of at least 1 to create a product; list it when stock arrives",
                ));
            }
        }
    }
    let mut seen_codes: HashMap<&str, usize> = HashMap::new();
    for (i, sku) in skus.iter().enumerate() {
        let Some(code) = &sku.identifier_code else {
            continue;
        };
        let path = format!("skus[{i}].identifier_code");
        if !identifier_code_is_valid(code) {
            p.push(Problem::error(
                &path,
                codes::IDENTIFIER_CODE_INVALID,
                format!(
                    "{:?} is not a valid {} (GTIN 14 digits, EAN 8/13/14, UPC 12, ISBN 13)",
                    code.code, code.kind
                ),
            ));
        }
        if let Some(first) = seen_codes.insert(code.code.as_str(), i) {
            p.push(Problem::error(
                &path,
                codes::IDENTIFIER_CODE_DUPLICATE,
                format!("{:?} is also used by skus[{first}]", code.code),
            ));
        }
    }
    validate_sales_attributes(skus.iter().map(|s| s.sales_attributes.as_slice()).collect(), p);
}

fn attribute_key(a: &SalesAttribute) -> String {
    match (&a.id, &a.name) {
        (Some(id), _) if !id.is_empty() => format!("id:{id}"),
        (_, Some(name)) => format!("name:{}", name.trim().to_lowercase()),
        _ => "?".into(),
    }
}

fn value_key(a: &SalesAttribute) -> String {
    match (&a.value_id, &a.value_name) {
        (Some(id), _) if !id.is_empty() => format!("id:{id}"),
        (_, Some(name)) => format!("name:{}", name.trim().to_lowercase()),
        _ => String::new(),
    }
}

fn validate_sales_attributes(per_sku: Vec<&[SalesAttribute]>, p: &mut Vec<Problem>) {
    if per_sku.len() == 1 && !per_sku[0].is_empty() {
        p.push(Problem::warning(
            "skus[0].sales_attributes",
            codes::SALES_ATTRIBUTES_ON_SINGLE_SKU,
            "a single-SKU product needs no sales attributes",
        ));
    }
    let reference: Vec<String> = {
        let mut keys: Vec<String> = per_sku
            .first()
            .map(|a| a.iter().map(attribute_key).collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    let mut combinations: HashMap<Vec<String>, usize> = HashMap::new();
    for (i, attributes) in per_sku.iter().enumerate() {
        let path = format!("skus[{i}].sales_attributes");
        if per_sku.len() > 1 && attributes.is_empty() {
            p.push(Problem::error(
                &path,
                codes::SALES_ATTRIBUTES_MISSING,
                "with several SKUs every SKU needs sales attributes",
            ));
            continue;
        }
        if attributes.len() > MAX_SALES_ATTRIBUTES {
            p.push(Problem::error(
                &path,
                codes::SALES_ATTRIBUTES_TOO_MANY,
                format!(
                    "{} sales attributes; at most {MAX_SALES_ATTRIBUTES}",
                    attributes.len()
                ),
            ));
        }
        let mut keys: Vec<String> = attributes.iter().map(attribute_key).collect();
        keys.sort();
        let unique: HashSet<&String> = keys.iter().collect();
        if unique.len() != keys.len() || (i > 0 && keys != reference) {
            p.push(Problem::error(
                &path,
                codes::SALES_ATTRIBUTES_INCONSISTENT,
                format!(
                    "attributes [{}] differ from skus[0]'s [{}]",
                    keys.join(", "),
                    reference.join(", ")
                ),
            ));
        }
        for (a, attribute) in attributes.iter().enumerate() {
            let apath = format!("{path}[{a}]");
            if let Some(name) = &attribute.name {
                let len = name.chars().count();
                if len > MAX_SALES_ATTRIBUTE_NAME {
                    p.push(Problem::error(
                        format!("{apath}.name"),
                        codes::SALES_ATTRIBUTE_NAME_TOO_LONG,
                        format!("{len} characters; at most {MAX_SALES_ATTRIBUTE_NAME}"),
                    ));
                }
            }
            if let Some(value) = &attribute.value_name {
                let len = value.chars().count();
                if len > MAX_SALES_ATTRIBUTE_VALUE {
                    p.push(Problem::error(
                        format!("{apath}.value_name"),
                        codes::SALES_ATTRIBUTE_VALUE_TOO_LONG,
                        format!("{len} characters; at most {MAX_SALES_ATTRIBUTE_VALUE}"),
                    ));
                }
            }
            if value_key(attribute).is_empty() {
                p.push(Problem::error(
                    format!("{apath}.value_name"),
                    codes::SALES_ATTRIBUTE_VALUE_MISSING,
                    "the attribute has no value",
                ));
            }
        }
        if per_sku.len() > 1 && !attributes.is_empty() {
            let mut combination: Vec<String> = attributes
                .iter()
                .map(|a| format!("{}={}", attribute_key(a), value_key(a)))
                .collect();
            combination.sort();
            if let Some(first) = combinations.insert(combination, i) {
                p.push(Problem::error(
                    &path,
                    codes::SALES_ATTRIBUTE_COMBINATION_DUPLICATE,
                    format!("same attribute values as skus[{first}]"),
                ));
            }
        }
    }
}

fn validate_package(product: &ProductRequest, rules: &ValidationRules, p: &mut Vec<Problem>) {
    match &product.package_weight {
        None if rules.mode == WriteMode::Create => p.push(Problem::error(
            "package_weight",
            codes::PACKAGE_WEIGHT_MISSING,
            "package weight is required",
        )),
        None => {}
        Some(w) => {
            let ok = match w.value.trim().parse::<Decimal>() {
                Ok(v) if v > Decimal::ZERO => match w.unit.as_str() {
                    "KILOGRAM" => v.normalize().scale() <= 3,
                    "GRAM" => v.normalize().scale() == 0,
                    "POUND" => v.normalize().scale() <= 2,
                    _ => false,
                },
                _ => false,
            };
            if !ok {
                p.push(Problem::error(
                    "package_weight",
                    codes::PACKAGE_WEIGHT_INVALID,
                    format!("{:?} {:?}: needs a positive value (KILOGRAM ≤ 3 decimals, GRAM whole, POUND ≤ 2 decimals)", w.value, w.unit),
                ));
            }
        }
    }
    if let Some(d) = &product.package_dimensions {
        for (name, value) in [("length", &d.length), ("width", &d.width), ("height", &d.height)] {
            if !matches!(value.trim().parse::<u64>(), Ok(n) if n > 0) {
                p.push(Problem::error(
                    format!("package_dimensions.{name}"),
                    codes::PACKAGE_DIMENSIONS_INVALID,
                    format!("{value:?} is not a positive whole number"),
                ));
            }
        }
        if !matches!(d.unit.as_str(), "CENTIMETER" | "INCH") {
            p.push(Problem::error(
                "package_dimensions.unit",
                codes::PACKAGE_DIMENSIONS_INVALID,
                format!("unit {:?}", d.unit),
            ));
        }
    }
}

fn validate_required_attributes(
    product: &ProductRequest,
    attributes: &CategoryAttributes,
    p: &mut Vec<Problem>,
) {
    for attribute in attributes
        .attributes
        .iter()
        .filter(|a| a.required() && a.kind == AttributeKind::ProductProperty)
    {
        let present = product.product_attributes.iter().any(|pa| {
            pa.id == attribute.id
                && pa.values.iter().any(|v| {
                    v.id.as_deref().is_some_and(|s| !s.is_empty())
                        || v.name.as_deref().is_some_and(|s| !s.trim().is_empty())
                })
        });
        if !present {
            p.push(Problem::error(
                "product_attributes",
                codes::REQUIRED_ATTRIBUTE_MISSING,
                format!(
                    "category {} requires attribute {:?} (id {})",
                    product.category_id, attribute.name, attribute.id
                ),
            ));
        }
    }
}

/// Emoji and pictographs (no letters of any script fall in these blocks).
fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF   // mahjong … pictographs extended-A (incl. emoticons, regional indicators)
        | 0x2600..=0x27BF   // misc symbols, dingbats
        | 0x2B50..=0x2B55   // stars, circles
        | 0xFE0F | 0x200D   // emoji presentation selector, zero-width joiner
        | 0xE0020..=0xE007F // tag characters (flag sequences)
    )
}

fn has_html_escape(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(off) = s[i..].find('&') {
        let start = i + off + 1;
        let mut j = start;
        if j < bytes.len() && bytes[j] == b'#' {
            j += 1;
        }
        let body_start = j;
        while j < bytes.len() && bytes[j].is_ascii_alphanumeric() && j - body_start < 10 {
            j += 1;
        }
        if j > body_start && j < bytes.len() && bytes[j] == b';' {
            return true;
        }
        i = start;
        if i >= s.len() {
            break;
        }
    }
    false
}

fn longest_run(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for c in s.chars() {
        if Some(c) == prev {
            run += 1;
        } else {
            run = 1;
            prev = Some(c);
        }
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use tts_tiktok::model::product::{ImageRef, Inventory, PackageWeight, Price, Sku};

    fn sku(seller: &str, attrs: &[(&str, &str)]) -> Sku {
        Sku {
            seller_sku: seller.into(),
            price: Some(Price {
                amount: "19.90".into(),
                currency: "EUR".into(),
                sale_price: None,
            }),
            inventory: vec![Inventory {
                warehouse_id: "W1".into(),
                quantity: 5,
            }],
            sales_attributes: attrs
                .iter()
                .map(|(n, v)| SalesAttribute {
                    name: Some(n.to_string()),
                    value_name: Some(v.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn valid() -> ProductRequest {
        ProductRequest {
            title: "T-Shirt Übergröße Weiß".into(),
            category_id: "600001".into(),
            main_images: vec![ImageRef { uri: "tos-1".into() }],
            skus: vec![sku("A-1", &[("Größe", "M")]), sku("A-2", &[("Größe", "L")])],
            package_weight: Some(PackageWeight {
                value: "0.25".into(),
                unit: "KILOGRAM".into(),
            }),
            ..Default::default()
        }
    }

    fn codes_of(p: &[Problem]) -> Vec<&'static str> {
        p.iter().map(|p| p.code).collect()
    }

    #[test]
    fn a_valid_product_has_no_problems() {
        let rules = ValidationRules::new("DE", Some("EUR"), WriteMode::Create);
        assert_eq!(validate_product(&valid(), &rules, None), vec![]);
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let mut p = valid();
        p.title = "Shirt 😀\u{7}".into();
        p.main_images = vec![];
        p.skus[0].seller_sku = "A 1".into();
        p.skus[1].seller_sku = "A 1".into();
        p.skus[1].inventory[0].quantity = 100_000;
        p.skus[1].sales_attributes.push(SalesAttribute {
            name: Some("Farbe".into()),
            value_name: Some("Weiß".into()),
            ..Default::default()
        });
        p.skus[0].price.as_mut().unwrap().amount = "0".into();
        let rules = ValidationRules::new("DE", Some("EUR"), WriteMode::Create);
        let problems = validate_product(&p, &rules, None);
        let got: Vec<(String, &str)> = problems.iter().map(|p| (p.path.clone(), p.code)).collect();
        for want in [
            ("title", codes::TITLE_INVALID_CHARS),
            ("main_images", codes::MAIN_IMAGES_MISSING),
            ("skus[0].seller_sku", codes::SELLER_SKU_HAS_SPACE),
            ("skus[1].seller_sku", codes::SELLER_SKU_DUPLICATE),
            ("skus[0].price.amount", codes::PRICE_NOT_POSITIVE),
            ("skus[1].inventory[0].quantity", codes::QUANTITY_OUT_OF_RANGE),
            ("skus[1].sales_attributes", codes::SALES_ATTRIBUTES_INCONSISTENT),
        ] {
            assert!(
                got.contains(&(want.0.to_string(), want.1)),
                "missing {want:?} in {got:?}"
            );
        }
    }

    #[test]
    fn title_rules_follow_the_region() {
        let mut p = valid();
        p.title = "Kurzer Titel".into();
        assert!(validate_product(&p, &ValidationRules::new("DE", None, WriteMode::Create), None).is_empty());
        assert_eq!(
            codes_of(&validate_product(
                &p,
                &ValidationRules::new("SG", None, WriteMode::Create),
                None
            )),
            vec![codes::TITLE_LENGTH]
        );
        p.title = "A".repeat(256);
        assert!(
            codes_of(&validate_product(
                &p,
                &ValidationRules::new("DE", None, WriteMode::Create),
                None
            ))
            .contains(&codes::TITLE_LENGTH)
        );
        p.title = "Tolles Shirt &amp; mehr".into();
        assert_eq!(
            codes_of(&validate_product(
                &p,
                &ValidationRules::new("DE", None, WriteMode::Create),
                None
            )),
            vec![codes::TITLE_INVALID_CHARS]
        );
    }

    #[test]
    fn zero_stock_blocks_create_but_not_edit() {
        let mut p = valid();
        p.skus[0].inventory[0].quantity = 0;
        assert_eq!(
            codes_of(&validate_product(
                &p,
                &ValidationRules::new("DE", None, WriteMode::Create),
                None
            )),
            vec![codes::QUANTITY_ZERO_ON_CREATE]
        );
        assert!(validate_product(&p, &ValidationRules::new("DE", None, WriteMode::Edit), None).is_empty());
    }
}
