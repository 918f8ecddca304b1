//! Validation and mapping problems are data: every check runs and reports, nothing returns early.

use std::fmt;

use serde::Serialize;
use tts_core::Error;

/// Whether a problem blocks the write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// TikTok (or PlentyONE) would reject the payload, or the data would be wrong: do not send.
    Error,
    /// Sent anyway, but someone should look (e.g. images beyond the 9th were dropped).
    Warning,
}

/// One problem with a field of a payload, e.g. `skus[3].seller_sku` / `SELLER_SKU_HAS_SPACE`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Field path in the payload the problem is about (`title`, `skus[3].inventory[0].quantity`).
    pub path: String,
    /// Stable code (see [`codes`]).
    pub code: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
    pub severity: Severity,
}

impl Problem {
    pub fn error(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            code,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            code,
            message: message.into(),
            severity: Severity::Warning,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.path, self.code, self.message)
    }
}

/// True if any problem blocks the write.
pub fn has_errors(problems: &[Problem]) -> bool {
    problems.iter().any(Problem::is_error)
}

/// The blocking problems as one [`tts_core::Error`] (`TTS_INVALID_ARGUMENT`, field = first path), or
/// `None` when nothing blocks. For callers that want an error rather than the list.
pub fn into_error(problems: &[Problem]) -> Option<Error> {
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    let first = errors.first()?;
    let listed: Vec<String> = errors.iter().map(|p| p.to_string()).collect();
    Some(Error::invalid_argument(
        first.path.clone(),
        format!("{} problem(s): {}", errors.len(), listed.join("; ")),
    ))
}

/// Stable problem codes.
pub mod codes {
    pub const TITLE_MISSING: &str = "TITLE_MISSING";
    pub const TITLE_LENGTH: &str = "TITLE_LENGTH";
    pub const TITLE_INVALID_CHARS: &str = "TITLE_INVALID_CHARS";
    pub const TITLE_REPEATED_CHARS: &str = "TITLE_REPEATED_CHARS";
    pub const DESCRIPTION_TOO_LONG: &str = "DESCRIPTION_TOO_LONG";
    pub const DESCRIPTION_TOO_MANY_IMAGES: &str = "DESCRIPTION_TOO_MANY_IMAGES";
    pub const MAIN_IMAGES_MISSING: &str = "MAIN_IMAGES_MISSING";
    pub const MAIN_IMAGES_TOO_MANY: &str = "MAIN_IMAGES_TOO_MANY";
    pub const MAIN_IMAGES_TRUNCATED: &str = "MAIN_IMAGES_TRUNCATED";
    pub const IMAGE_NOT_UPLOADED: &str = "IMAGE_NOT_UPLOADED";
    pub const SKUS_MISSING: &str = "SKUS_MISSING";
    pub const SKUS_TOO_MANY: &str = "SKUS_TOO_MANY";
    pub const SELLER_SKU_MISSING: &str = "SELLER_SKU_MISSING";
    pub const SELLER_SKU_TOO_LONG: &str = "SELLER_SKU_TOO_LONG";
    pub const SELLER_SKU_HAS_SPACE: &str = "SELLER_SKU_HAS_SPACE";
    pub const SELLER_SKU_DUPLICATE: &str = "SELLER_SKU_DUPLICATE";
    pub const IDENTIFIER_CODE_INVALID: &str = "IDENTIFIER_CODE_INVALID";
    pub const IDENTIFIER_CODE_DUPLICATE: &str = "IDENTIFIER_CODE_DUPLICATE";
    pub const PRICE_MISSING: &str = "PRICE_MISSING";
    pub const PRICE_INVALID: &str = "PRICE_INVALID";
    pub const PRICE_NOT_POSITIVE: &str = "PRICE_NOT_POSITIVE";
    pub const CURRENCY_MISMATCH: &str = "CURRENCY_MISMATCH";
    pub const INVENTORY_MISSING: &str = "INVENTORY_MISSING";
    pub const QUANTITY_OUT_OF_RANGE: &str = "QUANTITY_OUT_OF_RANGE";
    pub const QUANTITY_ZERO_ON_CREATE: &str = "QUANTITY_ZERO_ON_CREATE";
    pub const SALES_ATTRIBUTES_TOO_MANY: &str = "SALES_ATTRIBUTES_TOO_MANY";
    pub const SALES_ATTRIBUTES_INCONSISTENT: &str = "SALES_ATTRIBUTES_INCONSISTENT";
    pub const SALES_ATTRIBUTES_MISSING: &str = "SALES_ATTRIBUTES_MISSING";
    pub const SALES_ATTRIBUTES_ON_SINGLE_SKU: &str = "SALES_ATTRIBUTES_ON_SINGLE_SKU";
    pub const SALES_ATTRIBUTE_NAME_TOO_LONG: &str = "SALES_ATTRIBUTE_NAME_TOO_LONG";
    pub const SALES_ATTRIBUTE_VALUE_TOO_LONG: &str = "SALES_ATTRIBUTE_VALUE_TOO_LONG";
    pub const SALES_ATTRIBUTE_VALUE_MISSING: &str = "SALES_ATTRIBUTE_VALUE_MISSING";
    pub const SALES_ATTRIBUTE_COMBINATION_DUPLICATE: &str = "SALES_ATTRIBUTE_COMBINATION_DUPLICATE";
    pub const CATEGORY_MISSING: &str = "CATEGORY_MISSING";
    pub const CATEGORY_UNMAPPED: &str = "CATEGORY_UNMAPPED";
    pub const REQUIRED_ATTRIBUTE_MISSING: &str = "REQUIRED_ATTRIBUTE_MISSING";
    pub const PACKAGE_WEIGHT_MISSING: &str = "PACKAGE_WEIGHT_MISSING";
    pub const PACKAGE_WEIGHT_INVALID: &str = "PACKAGE_WEIGHT_INVALID";
    pub const PACKAGE_DIMENSIONS_INVALID: &str = "PACKAGE_DIMENSIONS_INVALID";
    pub const IDEMPOTENCY_KEY_TOO_LONG: &str = "IDEMPOTENCY_KEY_TOO_LONG";
    pub const NO_VARIATIONS: &str = "NO_VARIATIONS";
    pub const TEXT_MISSING: &str = "TEXT_MISSING";
    pub const TEXT_LANGUAGE_FALLBACK: &str = "TEXT_LANGUAGE_FALLBACK";
    // Orders
    pub const ADDRESS_INCOMPLETE: &str = "ADDRESS_INCOMPLETE";
    pub const COUNTRY_UNMAPPED: &str = "COUNTRY_UNMAPPED";
    pub const SKU_UNMATCHED: &str = "SKU_UNMATCHED";
    pub const AMOUNT_INVALID: &str = "AMOUNT_INVALID";
    pub const AMOUNTS_DO_NOT_RECONCILE: &str = "AMOUNTS_DO_NOT_RECONCILE";
    pub const CURRENCY_MISSING: &str = "CURRENCY_MISSING";
    pub const LINE_ITEMS_MISSING: &str = "LINE_ITEMS_MISSING";
    pub const LINE_ITEM_CANCELLED: &str = "LINE_ITEM_CANCELLED";
}

#[cfg(test)]
mod tests {
    use super::*;
    use tts_core::ErrorCode;

    #[test]
    fn blocking_problems_become_one_error_naming_the_first_path() {
        let problems = vec![
            Problem::warning("main_images", codes::MAIN_IMAGES_TRUNCATED, "12 images"),
            Problem::error(
                "skus[3].seller_sku",
                codes::SELLER_SKU_HAS_SPACE,
                "\"A 1\" contains a space",
            ),
            Problem::error("title", codes::TITLE_LENGTH, "300 characters"),
        ];
        assert!(has_errors(&problems));
        let error = into_error(&problems).unwrap();
        assert_eq!(error.code(), ErrorCode::InvalidArgument);
        assert_eq!(error.field.as_deref(), Some("skus[3].seller_sku"));
        assert!(error.message().contains("2 problem(s)"), "{}", error.message());
        assert!(
            error.message().contains("title [TITLE_LENGTH]"),
            "{}",
            error.message()
        );
        assert!(into_error(&problems[..1]).is_none());
    }
}
