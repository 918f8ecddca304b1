//! A small, realistic category tree with attributes, brands, and the logistics reference data
//! (warehouses, delivery options, shipping providers). Static: the real tree has thousands of nodes.

use serde_json::{Value, json};

pub struct Category {
    pub id: &'static str,
    pub parent_id: &'static str,
    pub name: &'static str,
    pub is_leaf: bool,
}

pub const CATEGORIES: &[Category] = &[
    Category {
        id: "600001",
        parent_id: "0",
        name: "Home Supplies",
        is_leaf: false,
    },
    Category {
        id: "600024",
        parent_id: "600001",
        name: "Kitchenware",
        is_leaf: false,
    },
    Category {
        id: "600031",
        parent_id: "600024",
        name: "Cookware",
        is_leaf: true,
    },
    Category {
        id: "600032",
        parent_id: "600024",
        name: "Cutlery & Flatware",
        is_leaf: true,
    },
    Category {
        id: "601152",
        parent_id: "0",
        name: "Womenswear & Underwear",
        is_leaf: false,
    },
    Category {
        id: "601265",
        parent_id: "601152",
        name: "Women's Tops",
        is_leaf: false,
    },
    Category {
        id: "601302",
        parent_id: "601265",
        name: "T-shirts",
        is_leaf: true,
    },
    Category {
        id: "601303",
        parent_id: "601265",
        name: "Blouses & Shirts",
        is_leaf: true,
    },
    Category {
        id: "601739",
        parent_id: "0",
        name: "Phones & Electronics",
        is_leaf: false,
    },
    Category {
        id: "601755",
        parent_id: "601739",
        name: "Phone Accessories",
        is_leaf: false,
    },
    Category {
        id: "601760",
        parent_id: "601755",
        name: "Phone Cases",
        is_leaf: true,
    },
];

pub struct Attribute {
    pub id: &'static str,
    pub name: &'static str,
    /// SALES_PROPERTY or PRODUCT_PROPERTY.
    pub kind: &'static str,
    pub required: bool,
    pub values: &'static [(&'static str, &'static str)],
    /// Leaf categories the attribute applies to.
    pub categories: &'static [&'static str],
}

const ALL_LEAVES: &[&str] = &["600031", "600032", "601302", "601303", "601760"];

pub const ATTRIBUTES: &[Attribute] = &[
    Attribute {
        id: "100000",
        name: "Color",
        kind: "SALES_PROPERTY",
        required: false,
        values: &[
            ("1001", "Black"),
            ("1002", "White"),
            ("1003", "Red"),
            ("1004", "Blue"),
        ],
        categories: ALL_LEAVES,
    },
    Attribute {
        id: "100007",
        name: "Size",
        kind: "SALES_PROPERTY",
        required: false,
        values: &[("2001", "S"), ("2002", "M"), ("2003", "L"), ("2004", "XL")],
        categories: &["601302", "601303"],
    },
    Attribute {
        id: "100198",
        name: "Material",
        kind: "PRODUCT_PROPERTY",
        required: true,
        values: &[
            ("3001", "Cotton"),
            ("3002", "Polyester"),
            ("3003", "Stainless Steel"),
            ("3004", "Silicone"),
        ],
        categories: &["600031", "600032", "601302", "601303", "601760"],
    },
    Attribute {
        id: "100216",
        name: "Pattern",
        kind: "PRODUCT_PROPERTY",
        required: false,
        values: &[("4001", "Solid"), ("4002", "Striped"), ("4003", "Floral")],
        categories: &["601302", "601303"],
    },
    Attribute {
        id: "100394",
        name: "Compatible Phone Models",
        kind: "PRODUCT_PROPERTY",
        required: true,
        values: &[("5001", "iPhone 15"), ("5002", "Galaxy S24"), ("5003", "Pixel 8")],
        categories: &["601760"],
    },
    Attribute {
        id: "100412",
        name: "Dishwasher Safe",
        kind: "PRODUCT_PROPERTY",
        required: false,
        values: &[("6001", "Yes"), ("6002", "No")],
        categories: &["600031", "600032"],
    },
];

pub fn category(id: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

pub fn category_chain(id: &str) -> Vec<Value> {
    let mut chain = Vec::new();
    let mut cur = category(id);
    while let Some(c) = cur {
        chain.push(
            json!({ "id": c.id, "parent_id": c.parent_id, "local_name": c.name, "is_leaf": c.is_leaf }),
        );
        cur = category(c.parent_id);
    }
    chain.reverse();
    chain
}

pub fn categories_json(keyword: Option<&str>) -> Value {
    let list: Vec<Value> = CATEGORIES
        .iter()
        .filter(|c| keyword.is_none_or(|k| c.name.to_lowercase().contains(&k.to_lowercase())))
        .map(|c| {
            json!({ "id": c.id, "parent_id": c.parent_id, "local_name": c.name, "is_leaf": c.is_leaf,
                         "permission_statuses": ["AVAILABLE"] })
        })
        .collect();
    json!({ "categories": list })
}

pub fn attributes_of(category_id: &str) -> impl Iterator<Item = &'static Attribute> + '_ {
    ATTRIBUTES
        .iter()
        .filter(move |a| a.categories.contains(&category_id))
}

pub fn attributes_json(category_id: &str) -> Value {
    let list: Vec<Value> = attributes_of(category_id)
        .map(|a| json!({
            "id": a.id, "name": a.name, "type": a.kind,
            // TikTok's field really is spelled `is_requried`.
            "is_requried": a.required,
            "values": a.values.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>(),
            "is_customizable": a.kind == "SALES_PROPERTY",
            "is_multiple_selection": false,
            "requirement_conditions": [],
        }))
        .collect();
    json!({ "attributes": list })
}

#[derive(Debug, Clone)]
pub struct Brand {
    pub id: String,
    pub name: String,
    pub authorized: bool,
}

pub fn default_brands() -> Vec<Brand> {
    [
        ("7082427311584347905", "Sandbox Home", true),
        ("7082427311584347906", "Acme", true),
        ("7082427311584347907", "Globex", false),
    ]
    .into_iter()
    .map(|(id, name, authorized)| Brand {
        id: id.into(),
        name: name.into(),
        authorized,
    })
    .collect()
}

impl Brand {
    pub fn to_json(&self) -> Value {
        json!({ "id": self.id, "name": self.name,
                "authorized_status": if self.authorized { "AUTHORIZED" } else { "UNAUTHORIZED" },
                "brand_status": "AVAILABLE", "is_t1_brand": false })
    }
}

/// Warehouse ids are derived from the shop id so they are stable across restarts.
pub fn warehouse_id(shop_id: &str, n: usize) -> String {
    let tail = &shop_id[shop_id.len().saturating_sub(4)..];
    format!("72900000000000{tail}{n}")
}

pub fn warehouses_json(shop_id: &str, region: &str) -> Value {
    json!({ "warehouses": [
        { "id": warehouse_id(shop_id, 0), "name": "Main warehouse", "effect_status": "ENABLED", "type": "SALES_WAREHOUSE",
          "sub_type": "DOMESTIC_WAREHOUSE", "is_default": true, "entity_id": "", "address": { "region_code": region, "city": "Sandbox City", "address_line1": "1 Warehouse Way", "postal_code": "90001" } },
        { "id": warehouse_id(shop_id, 1), "name": "Returns", "effect_status": "ENABLED", "type": "RETURN_WAREHOUSE",
          "sub_type": "DOMESTIC_WAREHOUSE", "is_default": true, "entity_id": "", "address": { "region_code": region, "city": "Sandbox City", "address_line1": "2 Warehouse Way", "postal_code": "90001" } },
    ]})
}

pub const DELIVERY_OPTIONS: &[(&str, &str, &str)] = &[
    ("7000000000000000101", "Standard shipping", "STANDARD"),
    ("7000000000000000102", "Express shipping", "EXPRESS"),
    ("7000000000000000103", "Shipped by seller", "SEND_BY_SELLER"),
];

pub const PROVIDERS: &[(&str, &str)] = &[
    ("7117858858072016686", "USPS"),
    ("7117859084333745966", "UPS"),
    ("7129736205220267778", "FedEx"),
    ("6656589581574209291", "DHL"),
];

pub fn provider_name(id: &str) -> Option<&'static str> {
    PROVIDERS.iter().find(|(p, _)| *p == id).map(|(_, n)| *n)
}

pub fn delivery_options_json() -> Value {
    json!({ "delivery_options": DELIVERY_OPTIONS.iter().map(|(id, name, t)| json!({
        "id": id, "name": name, "type": t, "description": format!("{name} (sandbox)"), "platform": ["TIKTOK_SHOP"],
    })).collect::<Vec<_>>() })
}

pub fn providers_json() -> Value {
    json!({ "shipping_providers": PROVIDERS.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>() })
}
