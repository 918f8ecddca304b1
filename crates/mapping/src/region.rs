//! Per-region listing rules (spec §8, from the Create Product reference).

/// Bounds that depend on the shop's region. Build with [`RegionRules::for_region`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionRules {
    /// Upper-case region code as TikTok writes it (`DE`, `UK`, `US`, ...).
    pub region: String,
    /// Title length in characters (inclusive).
    pub title_min: usize,
    pub title_max: usize,
    pub max_skus: usize,
}

/// Regions with the 1–255 title rule.
const TITLE_1_255: &[&str] = &["DE", "ES", "FR", "IE", "IT", "JP", "UK", "GB", "US"];
/// Regions with the 1–300 title rule.
const TITLE_1_300: &[&str] = &["BR", "MX"];
/// EU markets (300 SKUs). The reference says "EU"; every EU member state is listed so a new EU market
/// gets the EU limit.
const EU: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
    "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];
/// Non-EU regions with the 300-SKU limit.
const SKUS_300_OTHER: &[&str] = &["BR", "JP", "MX", "UK", "GB", "US"];

pub const MAX_MAIN_IMAGES: usize = 9;
pub const MAX_SALES_ATTRIBUTES: usize = 3;
pub const MAX_SALES_ATTRIBUTE_NAME: usize = 20;
pub const MAX_SALES_ATTRIBUTE_VALUE: usize = 50;
pub const MAX_SELLER_SKU: usize = 50;
pub const MAX_DESCRIPTION: usize = 10_000;
pub const MAX_DESCRIPTION_IMAGES: usize = 30;
pub const MAX_QUANTITY: u32 = 99_999;
pub const MAX_IDEMPOTENCY_KEY: usize = 128;
/// "≤ 9 consecutive repeated chars" in a title (12052931).
pub const MAX_REPEATED_TITLE_CHARS: usize = 9;

impl RegionRules {
    pub fn for_region(region: &str) -> RegionRules {
        let region = region.trim().to_ascii_uppercase();
        let (title_min, title_max) = if TITLE_1_255.contains(&region.as_str()) {
            (1, 255)
        } else if TITLE_1_300.contains(&region.as_str()) {
            (1, 300)
        } else {
            (25, 255)
        };
        let max_skus = if EU.contains(&region.as_str()) || SKUS_300_OTHER.contains(&region.as_str()) {
            300
        } else {
            100
        };
        RegionRules {
            region,
            title_min,
            title_max,
            max_skus,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_by_region() {
        let de = RegionRules::for_region("de");
        assert_eq!((de.title_min, de.title_max, de.max_skus), (1, 255, 300));
        let mx = RegionRules::for_region("MX");
        assert_eq!((mx.title_min, mx.title_max, mx.max_skus), (1, 300, 300));
        let sg = RegionRules::for_region("SG");
        assert_eq!((sg.title_min, sg.title_max, sg.max_skus), (25, 255, 100));
        assert_eq!(RegionRules::for_region("NL").max_skus, 300);
        assert_eq!(RegionRules::for_region("NL").title_min, 25);
    }
}
