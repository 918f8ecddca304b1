//! PlentyONE category → TikTok leaf category.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tts_plenty::model::VariationCategory;

use crate::problem::{Problem, codes};

/// The merchant's category table. A variation's categories are checked in the order PlentyONE lists
/// them; the first mapped one wins; `default_category_id` is used when none is mapped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CategoryMapping {
    /// PlentyONE category id → TikTok leaf category id.
    pub categories: HashMap<i64, String>,
    pub default_category_id: Option<String>,
}

/// Where a TikTok category came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CategoryMatch {
    Mapped {
        plenty_category_id: i64,
        tiktok_category_id: String,
    },
    Default {
        tiktok_category_id: String,
    },
}

impl CategoryMatch {
    pub fn tiktok_category_id(&self) -> &str {
        match self {
            CategoryMatch::Mapped {
                tiktok_category_id, ..
            }
            | CategoryMatch::Default { tiktok_category_id } => tiktok_category_id,
        }
    }
}

impl CategoryMapping {
    pub fn new(pairs: impl IntoIterator<Item = (i64, impl Into<String>)>) -> Self {
        CategoryMapping {
            categories: pairs.into_iter().map(|(k, v)| (k, v.into())).collect(),
            default_category_id: None,
        }
    }

    pub fn with_default(mut self, tiktok_category_id: impl Into<String>) -> Self {
        self.default_category_id = Some(tiktok_category_id.into());
        self
    }

    /// The TikTok category for a list of PlentyONE category ids (in priority order), or a
    /// `CATEGORY_UNMAPPED` problem naming the ids that were tried.
    pub fn resolve(&self, plenty_category_ids: &[i64]) -> Result<CategoryMatch, Problem> {
        for id in plenty_category_ids {
            if let Some(tiktok) = self.categories.get(id).filter(|t| !t.trim().is_empty()) {
                return Ok(CategoryMatch::Mapped {
                    plenty_category_id: *id,
                    tiktok_category_id: tiktok.clone(),
                });
            }
        }
        if let Some(default) = self.default_category_id.as_ref().filter(|t| !t.trim().is_empty()) {
            return Ok(CategoryMatch::Default {
                tiktok_category_id: default.clone(),
            });
        }
        let tried = if plenty_category_ids.is_empty() {
            "the variation has no PlentyONE category".to_string()
        } else {
            let ids: Vec<String> = plenty_category_ids.iter().map(i64::to_string).collect();
            format!("none of its PlentyONE categories [{}] is mapped", ids.join(", "))
        };
        Err(Problem::error(
            "category_id",
            codes::CATEGORY_UNMAPPED,
            format!(
                "no TikTok category: {tried}; map one of them to a TikTok leaf category or set a default category"
            ),
        ))
    }

    /// [`resolve`](Self::resolve) for a variation's category relations, in the order given.
    pub fn resolve_variation(&self, categories: &[VariationCategory]) -> Result<CategoryMatch, Problem> {
        let ids: Vec<i64> = categories.iter().map(|c| c.category_id).collect();
        self.resolve(&ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_mapped_wins_then_default_then_problem() {
        let m = CategoryMapping::new([(20, "600100"), (30, "600200")]);
        assert_eq!(
            m.resolve(&[10, 30, 20]).unwrap(),
            CategoryMatch::Mapped {
                plenty_category_id: 30,
                tiktok_category_id: "600200".into()
            }
        );
        let p = m.resolve(&[10, 11]).unwrap_err();
        assert_eq!(p.code, codes::CATEGORY_UNMAPPED);
        assert!(p.message.contains("[10, 11]"), "{}", p.message);
        let with_default = m.with_default("699999");
        assert_eq!(with_default.resolve(&[]).unwrap().tiktok_category_id(), "699999");
    }
}
