//! The seeded catalogue: items with variations (attributes Farbe/Größe, sales prices, EAN barcodes,
//! images, stock in two warehouses, texts in de/en with umlauts, timestamps), rendered in the classic
//! `/rest/items/variations` shape and an approximation of the PIM `/rest/pim/variations` shape.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::clock::w3c;

pub const WAREHOUSES: [(i64, &str); 2] = [(1, "Hauptlager"), (2, "Außenlager")];

/// (id, backendName, de, en, values: (id, backendName, de, en)).
type AttributeDef = (
    i64,
    &'static str,
    &'static str,
    &'static str,
    &'static [(i64, &'static str, &'static str, &'static str)],
);

/// The third attribute of big items (value ids from `PATTERN_VALUES`, names generated).
pub const PATTERN: i64 = 3;
const PATTERN_VALUES: i64 = 300;

pub const ATTRIBUTES: [AttributeDef; 2] = [
    (
        1,
        "Farbe",
        "Farbe",
        "Colour",
        &[
            (11, "weiss", "Weiß", "White"),
            (12, "schwarz", "Schwarz", "Black"),
            (13, "gruen", "Grün", "Green"),
        ],
    ),
    (
        2,
        "Groesse",
        "Größe",
        "Size",
        &[
            (21, "S", "S", "S"),
            (22, "M", "M", "M"),
            (23, "L", "L", "L"),
            (24, "XL", "XL", "XL"),
        ],
    ),
];

const NAMES: [(&str, &str, &str); 12] = [
    (
        "Bio-T-Shirt „Weiß & Grün“",
        "Organic T-shirt",
        "Weiches Bio-Baumwoll-Shirt für Größen S–XL.",
    ),
    ("Wollmütze", "Wool beanie", "Wärmende Mütze aus Schafwolle."),
    (
        "Kaffeebecher Übergröße",
        "Oversized coffee mug",
        "Spülmaschinenfester Becher, 450 ml.",
    ),
    ("Strickjacke", "Cardigan", "Grobstrick mit Hornknöpfen."),
    ("Lederhandschuhe", "Leather gloves", "Gefüttert, für kühle Tage."),
    (
        "Trinkflasche",
        "Water bottle",
        "Edelstahl, auslaufsicher, 0,75 l.",
    ),
    ("Fußmatte", "Doormat", "Kokosfaser, rutschfest."),
    (
        "Küchenschürze",
        "Kitchen apron",
        "Mit Brusttasche, waschbar bei 60 °C.",
    ),
    ("Sonnenbrille", "Sunglasses", "UV400, polarisiert."),
    ("Rucksack", "Backpack", "20 l, wasserabweisend."),
    ("Gürtel", "Belt", "Rindleder, 3,5 cm breit."),
    ("Bademantel", "Bathrobe", "Frottee, 100 % Baumwolle."),
];

#[derive(Clone, Debug)]
pub struct Item {
    pub id: i64,
    pub texts: Vec<(String, String, String)>, // (lang, name1, description)
    pub image_ids: Vec<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub struct Variation {
    pub id: i64,
    pub item_id: i64,
    pub is_main: bool,
    pub number: String,
    pub is_active: bool,
    pub weight_g: i64,
    pub dims_mm: (i64, i64, i64),
    pub attributes: Vec<(i64, i64)>,
    /// (salesPriceId, price in cents)
    pub prices: Vec<(i64, i64)>,
    pub barcode: String,
    pub image_ids: Vec<i64>,
    pub skus: Vec<Value>,
    /// warehouse → (physical, reserved)
    pub stock: BTreeMap<i64, (i64, i64)>,
    pub created_at: i64,
    pub updated_at: i64,
    pub stock_updated_at: i64,
}

#[derive(Default)]
pub struct Catalog {
    pub items: BTreeMap<i64, Item>,
    pub variations: BTreeMap<i64, Variation>,
    next_item: i64,
    next_variation: i64,
    pub next_sku: i64,
}

/// EAN-13 with a valid check digit from a 12-digit body.
pub fn ean13(body12: u64) -> String {
    let digits: Vec<u32> = format!("{:012}", body12 % 1_000_000_000_000)
        .chars()
        .map(|c| c.to_digit(10).expect("digit"))
        .collect();
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    let check = (10 - sum % 10) % 10;
    format!(
        "{}{check}",
        digits.iter().map(|d| d.to_string()).collect::<String>()
    )
}

fn cents(c: i64) -> Value {
    serde_json::from_str(&format!("{}.{:02}", c / 100, c % 100)).expect("number")
}

impl Catalog {
    pub fn seeded(items: usize, now: i64) -> Catalog {
        let mut c = Catalog {
            next_item: 100,
            next_variation: 1000,
            next_sku: 1,
            ..Default::default()
        };
        for i in 0..items {
            c.add_generated_item(i, now);
        }
        c
    }

    /// Adds item number `n` of the generator (deterministic apart from `now`).
    pub fn add_generated_item(&mut self, n: usize, now: i64) -> i64 {
        self.add_item(n, None, now)
    }

    /// Adds item number `n` with `variations` variations (default: the generator's Farbe × Größe
    /// grid). More than 12 variations add a third attribute *Muster* so every combination is unique.
    pub fn add_item(&mut self, n: usize, variations: Option<usize>, now: i64) -> i64 {
        let (de, en, description) = NAMES[n % NAMES.len()];
        let suffix = if n >= NAMES.len() {
            format!(" #{}", n / NAMES.len() + 1)
        } else {
            String::new()
        };
        let item_id = self.next_item;
        self.next_item += 1;
        let (colours, sizes) = match variations {
            Some(count) => (count.clamp(1, 3), 4),
            None => (1 + n % 3, 1 + (n / 3) % 4),
        };
        let combos: Vec<(usize, usize, Option<i64>)> = match variations {
            Some(count) => (0..count.max(1))
                .map(|k| (k % 3, (k / 3) % 4, (count > 12).then_some(k as i64 / 12)))
                .collect(),
            None => (0..colours)
                .flat_map(|c| (0..sizes).map(move |z| (c, z, None)))
                .collect(),
        };
        let image_ids: Vec<i64> = (1..=colours as i64).map(|p| item_id * 10 + p).collect();
        let item = Item {
            id: item_id,
            texts: vec![
                (
                    "de".into(),
                    format!("{de}{suffix}"),
                    format!("<p>{description}</p>"),
                ),
                ("en".into(), format!("{en}{suffix}"), format!("<p>{en}.</p>")),
            ],
            image_ids: image_ids.clone(),
            created_at: now - 30 * 86_400,
            updated_at: now - (1 + n as i64 % 7) * 86_400,
        };
        self.items.insert(item_id, item);
        let mut first = true;
        for (colour, size, pattern) in combos {
            {
                let id = self.next_variation;
                self.next_variation += 1;
                let colour_value = ATTRIBUTES[0].4[colour];
                let size_value = ATTRIBUTES[1].4[size];
                let mut stock = BTreeMap::new();
                stock.insert(WAREHOUSES[0].0, ((id * 7) % 50, id % 3));
                stock.insert(WAREHOUSES[1].0, ((id * 3) % 20, 0));
                self.variations.insert(
                    id,
                    Variation {
                        id,
                        item_id,
                        is_main: first,
                        number: match pattern {
                            None => {
                                format!("SB-{item_id}-{}-{}", colour_value.1.to_uppercase(), size_value.1)
                            }
                            Some(p) => format!(
                                "SB-{item_id}-{}-{}-M{}",
                                colour_value.1.to_uppercase(),
                                size_value.1,
                                p + 1
                            ),
                        },
                        is_active: true,
                        weight_g: 150 + 50 * size as i64,
                        dims_mm: (300, 200, 20 + 5 * size as i64),
                        attributes: match pattern {
                            None => vec![(1, colour_value.0), (2, size_value.0)],
                            Some(p) => vec![
                                (1, colour_value.0),
                                (2, size_value.0),
                                (PATTERN, PATTERN_VALUES + p),
                            ],
                        },
                        prices: vec![
                            (1, 999 + 500 * (n as i64 % 10) + 100 * size as i64),
                            (2, 2999 + 500 * (n as i64 % 10)),
                        ],
                        barcode: ean13(400_638_000_000 + id as u64),
                        image_ids: if first {
                            image_ids.clone()
                        } else {
                            vec![image_ids[colour]]
                        },
                        skus: Vec::new(),
                        stock,
                        created_at: now - 30 * 86_400,
                        updated_at: now - (1 + id % 10) * 86_400,
                        stock_updated_at: now - (1 + id % 5) * 3600,
                    },
                );
                first = false;
            }
        }
        item_id
    }

    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    fn attribute_json(attribute_id: i64, value_id: i64) -> Value {
        if attribute_id == PATTERN {
            let n = value_id - PATTERN_VALUES + 1;
            return json!({
                "attributeId": PATTERN, "valueId": value_id,
                "attribute": {"id": PATTERN, "backendName": "Muster", "position": 3,
                              "attributeNames": [{"attributeId": PATTERN, "lang": "de", "name": "Muster"}, {"attributeId": PATTERN, "lang": "en", "name": "Pattern"}]},
                "attributeValue": {"id": value_id, "attributeId": PATTERN, "backendName": format!("muster-{n}"), "position": n,
                                   "valueNames": [{"lang": "de", "valueId": value_id, "name": format!("Muster {n}")}, {"lang": "en", "valueId": value_id, "name": format!("Pattern {n}")}]},
            });
        }
        let Some(a) = ATTRIBUTES.iter().find(|a| a.0 == attribute_id) else {
            return json!({ "attributeId": attribute_id, "valueId": value_id });
        };
        let v = a.4.iter().find(|v| v.0 == value_id);
        json!({
            "attributeId": attribute_id,
            "valueId": value_id,
            "attribute": {
                "id": a.0, "backendName": a.1, "position": a.0, "isSurchargePercental": false,
                "attributeNames": [{"attributeId": a.0, "lang": "de", "name": a.2}, {"attributeId": a.0, "lang": "en", "name": a.3}]
            },
            "attributeValue": v.map(|v| json!({
                "id": v.0, "attributeId": a.0, "backendName": v.1, "position": v.0 % 10,
                "valueNames": [{"lang": "de", "valueId": v.0, "name": v.2}, {"lang": "en", "valueId": v.0, "name": v.3}]
            })),
        })
    }

    pub fn image_json(&self, base_url: &str, item_id: i64, image_id: i64) -> Value {
        let position = image_id % 10;
        let url = format!("{base_url}/_plenty/images/{item_id}/{image_id}.png");
        json!({
            "id": image_id, "itemId": item_id, "position": position, "type": "internal", "fileType": "png",
            "url": url, "urlMiddle": url, "urlPreview": url, "width": 1200, "height": 1200,
            "md5Checksum": format!("{:032x}", image_id as u128 * 0x9e37_79b9),
            "names": [{"imageId": image_id, "lang": "de", "name": format!("Bild {position}"), "alternate": ""}],
        })
    }

    pub fn texts_json(&self, item_id: i64, variation_id: Option<i64>) -> Vec<Value> {
        let Some(item) = self.items.get(&item_id) else {
            return Vec::new();
        };
        item.texts
            .iter()
            .map(|(lang, name, description)| {
                json!({
                    "itemId": item_id, "variationId": variation_id, "lang": lang, "name1": name, "name2": "", "name3": "",
                    "shortDescription": description.replace("<p>", "").replace("</p>", ""),
                    "description": description, "technicalData": "", "metaDescription": "", "keywords": "",
                    "urlPath": name.to_lowercase().replace(' ', "-"),
                })
            })
            .collect()
    }

    /// Per-variation stock (`VariationStock`: `physicalStock`, `netStock`, …).
    pub fn stock_json(v: &Variation) -> Vec<Value> {
        v.stock
            .iter()
            .map(|(wh, (physical, reserved))| {
                json!({
                    "variationId": v.id, "warehouseId": wh,
                    "physicalStock": physical, "reservedStock": reserved, "netStock": physical - reserved,
                    "reservedListing": 0, "reservedBundles": 0, "updatedAt": w3c(v.stock_updated_at),
                })
            })
            .collect()
    }

    /// Stock-management rows (`stockPhysical`, `stockNet`, … as the stock-management routes spell them).
    pub fn stock_management_json(v: &Variation) -> Vec<Value> {
        v.stock
            .iter()
            .map(|(wh, (physical, reserved))| {
                json!({
                    "itemId": v.item_id, "variationId": v.id, "warehouseId": wh,
                    "stockPhysical": physical, "reservedStock": reserved, "stockNet": physical - reserved,
                    "reorderDelta": 0, "updatedAt": w3c(v.stock_updated_at),
                })
            })
            .collect()
    }

    /// The classic shape (what `tts_plenty::model::Variation` reads), with the relations in `with`.
    pub fn classic_json(&self, base_url: &str, v: &Variation, with: &BTreeSet<String>) -> Value {
        let main = self
            .variations
            .values()
            .find(|x| x.item_id == v.item_id && x.is_main)
            .map(|x| x.id);
        let mut out = json!({
            "id": v.id, "itemId": v.item_id, "isMain": v.is_main, "mainVariationId": if v.is_main { Value::Null } else { json!(main) },
            "isActive": v.is_active, "number": v.number, "model": "", "externalId": "", "name": "", "position": 0,
            "mainWarehouseId": 1, "stockLimitation": 1, "weightG": v.weight_g, "weightNetG": v.weight_g - 10,
            "widthMM": v.dims_mm.0, "lengthMM": v.dims_mm.1, "heightMM": v.dims_mm.2, "vatId": 0,
            "createdAt": w3c(v.created_at), "updatedAt": w3c(v.updated_at), "relatedUpdatedAt": w3c(v.updated_at.max(v.stock_updated_at)),
        });
        let has = |k: &str| with.contains(k);
        let o = out.as_object_mut().expect("object");
        if has("variationSalesPrices") {
            o.insert("variationSalesPrices".into(), v.prices.iter().map(|(id, c)| json!({"variationId": v.id, "salesPriceId": id, "price": cents(*c), "updatedAt": w3c(v.updated_at)})).collect());
        }
        if has("variationBarcodes") {
            o.insert("variationBarcodes".into(), json!([{"variationId": v.id, "barcodeId": 1, "code": v.barcode, "barcode": {"id": 1, "name": "EAN", "type": "GTIN_13"}}]));
        }
        if has("images") {
            o.insert(
                "images".into(),
                v.image_ids
                    .iter()
                    .map(|i| self.image_json(base_url, v.item_id, *i))
                    .collect(),
            );
        }
        if has("itemImages") {
            let ids = self
                .items
                .get(&v.item_id)
                .map(|i| i.image_ids.clone())
                .unwrap_or_default();
            o.insert(
                "itemImages".into(),
                ids.iter()
                    .map(|i| self.image_json(base_url, v.item_id, *i))
                    .collect(),
            );
        }
        if has("variationAttributeValues") {
            o.insert(
                "variationAttributeValues".into(),
                v.attributes
                    .iter()
                    .map(|(a, val)| Self::attribute_json(*a, *val))
                    .collect(),
            );
        }
        if has("variationSkus") {
            o.insert("variationSkus".into(), json!(v.skus));
        }
        if has("stock") {
            o.insert("stock".into(), json!(Self::stock_json(v)));
        }
        if has("item") || has("item.texts") || has("itemTexts") {
            let texts = self.texts_json(v.item_id, None);
            if has("itemTexts") {
                o.insert("itemTexts".into(), json!(texts.clone()));
            }
            o.insert(
                "item".into(),
                json!({"id": v.item_id, "mainVariationId": main, "manufacturerId": 1, "texts": texts}),
            );
        }
        out
    }

    /// An approximation of the PIM shape: `base` plus relation arrays, `timestamps`.
    pub fn pim_json(&self, base_url: &str, v: &Variation, with: &BTreeSet<String>) -> Value {
        let has = |k: &str| with.contains(k) || with.iter().any(|w| w.starts_with(&format!("{k}.")));
        let mut out = json!({ "id": v.id });
        let o = out.as_object_mut().expect("object");
        if has("base") {
            let mut base = json!({
                "itemId": v.item_id, "isMain": v.is_main, "isActive": v.is_active, "number": v.number,
                "weightG": v.weight_g, "widthMM": v.dims_mm.0, "lengthMM": v.dims_mm.1, "heightMM": v.dims_mm.2,
                "stockLimitation": 1, "mainWarehouseId": 1,
            });
            if with.contains("base.item") || with.contains("base.texts") {
                base["item"] = json!({"id": v.item_id, "texts": self.texts_json(v.item_id, None)});
            }
            if with.contains("base.stock") {
                base["stock"] = json!(Self::stock_json(v));
            }
            o.insert("base".into(), base);
        }
        if has("attributeValues") {
            o.insert(
                "attributeValues".into(),
                v.attributes
                    .iter()
                    .map(|(a, val)| Self::attribute_json(*a, *val))
                    .collect(),
            );
        }
        if has("barcodes") {
            o.insert(
                "barcodes".into(),
                json!([{"barcodeId": 1, "code": v.barcode, "barcode": {"id": 1, "type": "GTIN_13"}}]),
            );
        }
        if has("salesPrices") {
            o.insert(
                "salesPrices".into(),
                v.prices
                    .iter()
                    .map(|(id, c)| json!({"salesPriceId": id, "price": cents(*c)}))
                    .collect(),
            );
        }
        if has("images") {
            o.insert(
                "images".into(),
                v.image_ids
                    .iter()
                    .map(|i| json!({"imageId": i, "image": self.image_json(base_url, v.item_id, *i)}))
                    .collect(),
            );
        }
        if has("skus") {
            o.insert("skus".into(), json!(v.skus));
        }
        if has("timestamps") {
            o.insert("timestamps".into(), json!({"createdAt": w3c(v.created_at), "updatedAt": w3c(v.updated_at), "stockUpdatedAt": w3c(v.stock_updated_at)}));
        }
        out
    }

    /// Sets (or shifts) the physical stock of a variation in a warehouse; bumps `stockUpdatedAt`.
    pub fn set_stock(
        &mut self,
        variation_id: i64,
        warehouse_id: i64,
        physical: Option<i64>,
        delta: Option<i64>,
        now: i64,
    ) -> Result<Value, String> {
        let v = self
            .variations
            .get_mut(&variation_id)
            .ok_or_else(|| format!("no variation {variation_id}"))?;
        if !WAREHOUSES.iter().any(|w| w.0 == warehouse_id) {
            return Err(format!("no warehouse {warehouse_id}"));
        }
        let entry = v.stock.entry(warehouse_id).or_insert((0, 0));
        match (physical, delta) {
            (Some(p), _) => entry.0 = p,
            (None, Some(d)) => entry.0 += d,
            (None, None) => return Err("give `physical` or `delta`".into()),
        }
        v.stock_updated_at = now;
        Ok(json!(Self::stock_json(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcodes_are_valid_ean13_and_the_seed_has_several_shapes() {
        assert_eq!(ean13(400_638_133_393), "4006381333931");
        let c = Catalog::seeded(12, 1_800_000_000);
        assert_eq!(c.item_count(), 12);
        assert!(c.variations.len() > 30, "{}", c.variations.len());
        assert!(c.variations.values().any(|v| v.attributes.len() == 2));
    }

    #[test]
    fn a_big_item_has_unique_attribute_combinations() {
        let mut c = Catalog::seeded(0, 1_800_000_000);
        let item = c.add_item(0, Some(301), 1_800_000_000);
        let vs: Vec<&Variation> = c.variations.values().filter(|v| v.item_id == item).collect();
        assert_eq!(vs.len(), 301);
        let combos: BTreeSet<Vec<(i64, i64)>> = vs.iter().map(|v| v.attributes.clone()).collect();
        assert_eq!(combos.len(), 301);
        assert_eq!(vs.iter().filter(|v| v.is_main).count(), 1);
        let json = Catalog::attribute_json(PATTERN, 300 + 25);
        assert_eq!(json["attributeValue"]["valueNames"][0]["name"], "Muster 26");
    }
}
