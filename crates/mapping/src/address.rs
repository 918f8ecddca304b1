//! Address helpers: street / house-number split, country ids, masked values.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A street line split into PlentyONE's `address1` (street), `address2` (house number) and
/// `address3` (additional: apartment, suite, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreetParts {
    pub street: String,
    pub house_number: String,
    pub additional: String,
}

/// Words that start an additional address part ("123 Main St Apt 4" → additional "Apt 4").
const UNIT_DESIGNATORS: &[&str] = &[
    "apt",
    "apt.",
    "apartment",
    "suite",
    "ste",
    "ste.",
    "unit",
    "#",
    "fl",
    "fl.",
    "floor",
    "room",
    "rm",
    "bldg",
    "building",
    "whg",
    "whg.",
    "wohnung",
    "etage",
    "c/o",
];

/// Splits "Hauptstraße 5a", "5a Hauptstraße", "Rue de la Paix 12", "123 Main St Apt 4",
/// "Straße des 17. Juni 114", "Hauptstr. 5 a". A line without a house number is kept whole as street.
pub fn split_street(line: &str) -> StreetParts {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    if tokens.is_empty() {
        return StreetParts::default();
    }
    // Additional part: from the first unit designator on (never the first token: "Unit 4 Mill Lane"
    // style addresses keep their first word), or a token starting with '#'.
    let cut = tokens.iter().enumerate().skip(1).find_map(|(i, t)| {
        let lower = t.to_lowercase();
        (UNIT_DESIGNATORS.contains(&lower.as_str()) || (t.starts_with('#') && t.len() > 1)).then_some(i)
    });
    let (main, additional) = match cut {
        Some(i) => (&tokens[..i], tokens[i..].join(" ")),
        None => (&tokens[..], String::new()),
    };

    let starts_with_digit = |t: &str| t.chars().next().is_some_and(|c| c.is_ascii_digit());
    let is_letter_suffix = |t: &str| t.chars().count() == 1 && t.chars().all(char::is_alphabetic);

    let n = main.len();
    // Trailing number, possibly followed by a one-letter suffix ("5 a").
    if n >= 3
        && starts_with_digit(main[n - 2])
        && is_letter_suffix(main[n - 1])
        && !main[n - 2].ends_with('.')
    {
        return StreetParts {
            street: main[..n - 2].join(" "),
            house_number: format!("{} {}", main[n - 2], main[n - 1]),
            additional,
        };
    }
    if n >= 2 && starts_with_digit(main[n - 1]) {
        return StreetParts {
            street: main[..n - 1].join(" "),
            house_number: main[n - 1].to_string(),
            additional,
        };
    }
    // Leading number ("5a Hauptstraße", "123 Main St").
    if n >= 2 && starts_with_digit(main[0]) {
        return StreetParts {
            street: main[1..].join(" "),
            house_number: main[0].trim_end_matches(',').to_string(),
            additional,
        };
    }
    StreetParts {
        street: main.join(" "),
        house_number: String::new(),
        additional,
    }
}

/// True if TikTok masked the value (`J*** D***`, `(+1)213****45`).
pub fn is_masked(value: &str) -> bool {
    value.contains('*')
}

/// The value if present and not masked.
pub fn usable(value: &str) -> Option<&str> {
    let v = value.trim();
    (!v.is_empty() && !is_masked(v)).then_some(v)
}

/// Splits a full name at the last space: "Anna Maria Schmidt" → ("Anna Maria", "Schmidt"); a single
/// word is taken as the last name.
pub fn split_name(full: &str) -> (String, String) {
    let full = full.trim();
    match full.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (first.trim().to_string(), last.trim().to_string()),
        None => (String::new(), full.to_string()),
    }
}

/// ISO-3166 alpha-2 → PlentyONE country id.
///
/// Source: plentymarkets' default country list (*Setup » Orders » Shipping » Settings » Countries of
/// delivery*). DE = 1 and GB = 12 are confirmed by the REST getting-started guide (spec C.3 row 7);
/// the other ids are the standard list as we know it and are UNVERIFIED against a live system — load
/// the system's own list (`GET /rest/orders/shipping/countries`) into [`CountryTable::overrides`].
const DEFAULT_COUNTRY_IDS: &[(&str, i64)] = &[
    ("DE", 1),
    ("AT", 2),
    ("BE", 3),
    ("CH", 4),
    ("CY", 5),
    ("CZ", 6),
    ("DK", 7),
    ("ES", 8),
    ("EE", 9),
    ("FR", 10),
    ("FI", 11),
    ("GB", 12),
    ("GR", 13),
    ("HU", 14),
    ("IT", 15),
    ("IE", 16),
    ("LU", 17),
    ("LV", 18),
    ("MT", 19),
    ("NO", 20),
    ("NL", 21),
    ("PT", 22),
    ("PL", 23),
    ("SE", 24),
    ("SG", 25),
    ("SK", 26),
    ("SI", 27),
    ("US", 28),
    ("AU", 29),
    ("CA", 30),
    ("CN", 31),
    ("JP", 32),
    ("LT", 33),
    ("LI", 34),
    ("MC", 35),
    ("MX", 36),
    ("IN", 38),
    ("BR", 39),
    ("RU", 40),
    ("RO", 41),
    ("BG", 44),
];

/// Country ids with merchant overrides (the system's own list wins).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CountryTable {
    /// ISO alpha-2 (upper case) → PlentyONE country id.
    pub overrides: HashMap<String, i64>,
}

impl CountryTable {
    /// PlentyONE country id for an ISO alpha-2 code (`UK` is read as `GB`, as TikTok names the region).
    pub fn country_id(&self, iso2: &str) -> Option<i64> {
        let mut code = iso2.trim().to_ascii_uppercase();
        if code == "UK" {
            code = "GB".into();
        }
        if let Some(id) = self.overrides.get(&code) {
            return Some(*id);
        }
        DEFAULT_COUNTRY_IDS
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, id)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(street: &str, number: &str, additional: &str) -> StreetParts {
        StreetParts {
            street: street.into(),
            house_number: number.into(),
            additional: additional.into(),
        }
    }

    #[test]
    fn splits_street_and_house_number() {
        assert_eq!(split_street("Hauptstraße 5a"), parts("Hauptstraße", "5a", ""));
        assert_eq!(split_street("5a Hauptstraße"), parts("Hauptstraße", "5a", ""));
        assert_eq!(
            split_street("Rue de la Paix 12"),
            parts("Rue de la Paix", "12", "")
        );
        assert_eq!(
            split_street("123 Main St Apt 4"),
            parts("Main St", "123", "Apt 4")
        );
        assert_eq!(
            split_street("Straße des 17. Juni 114"),
            parts("Straße des 17. Juni", "114", "")
        );
        assert_eq!(split_street("Hauptstr. 5 a"), parts("Hauptstr.", "5 a", ""));
        assert_eq!(split_street("Am Markt 3-5"), parts("Am Markt", "3-5", ""));
        assert_eq!(
            split_street("10 Downing Street"),
            parts("Downing Street", "10", "")
        );
        assert_eq!(split_street("500 Oak Ave #12"), parts("Oak Ave", "500", "#12"));
        assert_eq!(split_street("Marktplatz"), parts("Marktplatz", "", ""));
        assert_eq!(split_street("  "), parts("", "", ""));
    }

    #[test]
    fn country_ids_and_masks() {
        let t = CountryTable::default();
        assert_eq!(t.country_id("de"), Some(1));
        assert_eq!(t.country_id("UK"), Some(12));
        assert_eq!(t.country_id("GB"), Some(12));
        assert_eq!(t.country_id("ZZ"), None);
        let t = CountryTable {
            overrides: HashMap::from([("US".into(), 99)]),
        };
        assert_eq!(t.country_id("US"), Some(99));
        assert!(is_masked("J*** D***"));
        assert_eq!(usable(" Anna "), Some("Anna"));
        assert_eq!(usable("(+1)213****45"), None);
        assert_eq!(
            split_name("Anna Maria Schmidt"),
            ("Anna Maria".into(), "Schmidt".into())
        );
        assert_eq!(split_name("Cher"), ("".into(), "Cher".into()));
    }
}
