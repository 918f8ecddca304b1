//! Products, images, categories, brands, inventory and prices.

use serde_json::{Value, json};

use super::{Req, in_window, paginate};
use crate::envelope::{ApiError, ApiResult, codes};
use crate::state::products::{Image, image_size};
use crate::state::{State, catalog};

const PRODUCT_STATUSES: &[&str] = &[
    "ALL",
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
];

pub fn search(req: &Req, s: &mut State) -> ApiResult {
    let size = req.page_size(1, 100, None)?;
    let body = req.json()?;
    let status = body["status"].as_str().unwrap_or("ALL");
    if !PRODUCT_STATUSES.contains(&status) {
        return Err(ApiError::bad_request(format!("Unknown status {status:?}.")));
    }
    let skus: Vec<&str> = body["seller_skus"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let mut list: Vec<_> = s
        .products
        .values()
        .filter(|p| p.shop_id == req.shop())
        // ALL means every status except DELETED, like the real search.
        .filter(|p| {
            if status == "ALL" {
                p.status != "DELETED"
            } else {
                p.status == status
            }
        })
        .filter(|p| skus.is_empty() || p.skus().iter().any(|(_, ss, _)| skus.contains(&ss.as_str())))
        .filter(|p| {
            in_window(&body, "create_time", p.create_time) && in_window(&body, "update_time", p.update_time)
        })
        .collect();
    list.sort_by(|a, b| (b.update_time, &b.id).cmp(&(a.update_time, &a.id)));
    if list.len() > 10_000 {
        list.truncate(10_000);
    }
    let all: Vec<Value> = list.iter().map(|p| p.summary_json()).collect();
    let (page, next, total) = paginate(&all, size, req.q("page_token"))?;
    Ok(json!({ "products": page, "next_page_token": next, "total_count": total }))
}

pub fn detail(req: &Req, s: &mut State) -> ApiResult {
    let p = s
        .products
        .get(req.params[0])
        .filter(|p| p.shop_id == req.shop())
        .ok_or_else(|| {
            ApiError::business(
                codes::PRODUCT_NOT_IN_SHOP,
                format!("Product {} isn't listed in your account or shop.", req.params[0]),
            )
        })?;
    Ok(p.detail_json())
}

pub fn create(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    let key = body["idempotency_key"].as_str().map(String::from);
    if key.as_ref().is_some_and(|k| k.chars().count() > 128) {
        return Err(ApiError::bad_request(
            "idempotency_key must be at most 128 characters.",
        ));
    }
    let Some(key) = key else {
        return s.create_product(req.shop(), body, req.now);
    };
    let k = (
        req.app_key.to_string(),
        req.shop().to_string(),
        req.op.name(),
        key,
    );
    if let Some(v) = s.idempotency.get(&k) {
        return Ok(v.clone());
    }
    let v = s.create_product(req.shop(), body, req.now)?;
    s.idempotency.insert(k, v.clone());
    Ok(v)
}

pub fn edit(req: &Req, s: &mut State) -> ApiResult {
    s.edit_product(req.shop(), req.params[0], req.json()?, false, req.now)
}

pub fn partial_edit(req: &Req, s: &mut State) -> ApiResult {
    let mut data = s.edit_product(req.shop(), req.params[0], req.json()?, true, req.now)?;
    // Partial Edit answers without `warnings` (SDK `PartialEditProductResponseData`).
    if let Some(m) = data.as_object_mut() {
        m.remove("warnings");
    }
    Ok(data)
}

fn ids(req: &Req, max: usize) -> Result<Vec<String>, ApiError> {
    let body = req.json()?;
    let ids: Vec<String> = body["product_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    if ids.is_empty() || ids.len() > max {
        return Err(ApiError::bad_request(format!(
            "product_ids must hold 1-{max} ids (got {}).",
            ids.len()
        )));
    }
    Ok(ids)
}

pub fn delete(req: &Req, s: &mut State) -> ApiResult {
    let ids = ids(req, 20)?;
    Ok(s.bulk_status(req.shop(), &ids, "delete", req.now))
}

pub fn activate(req: &Req, s: &mut State) -> ApiResult {
    let ids = ids(req, 20)?;
    Ok(s.bulk_status(req.shop(), &ids, "activate", req.now))
}

pub fn deactivate(req: &Req, s: &mut State) -> ApiResult {
    let ids = ids(req, 20)?;
    Ok(s.bulk_status(req.shop(), &ids, "deactivate", req.now))
}

pub fn recover(req: &Req, s: &mut State) -> ApiResult {
    let ids = ids(req, 20)?;
    Ok(s.bulk_status(req.shop(), &ids, "recover", req.now))
}

pub fn inventory_update(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    s.update_inventory(req.shop(), req.params[0], &body, req.now)
}

pub fn inventory_search(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    s.inventory_search(req.shop(), &body)
}

pub fn prices_update(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    s.update_prices(req.shop(), req.params[0], &body, req.now)
}

/// (form field name, filename, bytes)
pub type Part<'b> = (String, Option<String>, &'b [u8]);

/// Parts of a multipart/form-data body.
pub fn multipart_parts<'b>(content_type: &str, body: &'b [u8]) -> Option<Vec<Part<'b>>> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut parts = Vec::new();
    let mut pos = find(body, d, 0)? + d.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            break;
        }
        pos += 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = std::str::from_utf8(&body[pos..head_end]).ok()?;
        let next = find(body, d, head_end + 4)?;
        let data = &body[head_end + 4..next.saturating_sub(2)];
        let disp = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?;
        let attr = |key: &str| {
            disp.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(&format!("{key}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        parts.push((attr("name")?, attr("filename"), data));
        pos = next + d.len();
    }
    Some(parts)
}

pub fn image_upload(req: &Req, s: &mut State) -> ApiResult {
    let ct = req.content_type.unwrap_or("");
    if !crate::signature::is_multipart(Some(ct)) {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            codes::MULTIPART_REQUIRED,
            "content-type must be multipart/form-data",
        ));
    }
    let parts = multipart_parts(ct, req.body)
        .ok_or_else(|| ApiError::bad_request("The multipart body could not be parsed."))?;
    let data = parts
        .iter()
        .find(|(n, _, _)| n == "data")
        .map(|(_, _, d)| *d)
        .ok_or_else(|| ApiError::bad_request("form field data (the image file) is required."))?;
    if data.len() > 5 * 1024 * 1024 {
        return Err(ApiError::business(
            36009021,
            "Uploaded file too large (max 5 MB).",
        ));
    }
    let use_case = parts
        .iter()
        .find(|(n, _, _)| n == "use_case")
        .map(|(_, _, d)| String::from_utf8_lossy(d).trim().to_string())
        .unwrap_or_else(|| "MAIN_IMAGE".into());
    if !matches!(
        use_case.as_str(),
        "MAIN_IMAGE" | "ATTRIBUTE_IMAGE" | "DESCRIPTION_IMAGE" | "CERTIFICATION_IMAGE" | "SIZE_CHART_IMAGE"
    ) {
        return Err(ApiError::bad_request(format!("Unknown use_case {use_case:?}.")));
    }
    let (w, h, fmt) =
        image_size(data).ok_or_else(|| ApiError::bad_request("The file is not a JPEG, PNG or GIF image."))?;
    if use_case == "MAIN_IMAGE" && !((300..=4000).contains(&w) && (300..=4000).contains(&h)) {
        return Err(ApiError::bad_request(format!(
            "Main images must be 300x300 to 4000x4000 px (got {w}x{h})."
        )));
    }
    let id = s.next_id(0);
    let uri = format!("tos-maliva-i-o3syd03w52-us/sbx{id:0>16}");
    let img = Image {
        uri: uri.clone(),
        url: format!("{}/_sandbox/images/{uri}.{fmt}", req.base_url),
        width: w,
        height: h,
        use_case,
    };
    let out = img.to_json();
    s.images.insert(uri, img);
    Ok(out)
}

pub fn categories(req: &Req, _s: &mut State) -> ApiResult {
    Ok(catalog::categories_json(req.q("keyword")))
}

pub fn attributes(req: &Req, _s: &mut State) -> ApiResult {
    let id = req.params[0];
    match catalog::category(id) {
        Some(c) if c.is_leaf => Ok(catalog::attributes_json(id)),
        Some(_) => Err(ApiError::bad_request(format!(
            "Category {id} is not a leaf category."
        ))),
        None => Err(ApiError::not_found("category", id)),
    }
}

pub fn brands(req: &Req, s: &mut State) -> ApiResult {
    let size = req.page_size(1, 100, None)?;
    let name = req.q("brand_name").map(str::to_lowercase);
    let authorized = req.q("is_authorized").map(|v| v == "true" || v == "1");
    let list: Vec<Value> = s
        .brands
        .iter()
        .filter(|b| name.as_ref().is_none_or(|n| b.name.to_lowercase().contains(n)))
        .filter(|b| authorized.is_none_or(|a| b.authorized == a))
        .map(|b| b.to_json())
        .collect();
    let (page, next, total) = paginate(&list, size, req.q("page_token"))?;
    Ok(json!({ "brands": page, "next_page_token": next, "total_count": total }))
}

pub fn create_brand(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    let name = body["name"]
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("name is required."))?;
    if name.chars().count() > 30 {
        return Err(ApiError::bad_request("Brand name must be at most 30 characters."));
    }
    if s.brands.iter().any(|b| b.name.eq_ignore_ascii_case(name)) {
        return Err(ApiError::bad_request(format!("Brand {name:?} already exists.")));
    }
    let id = s.next_id(7_082_427_311_584_400_000);
    // New brands wait for TikTok's review; the sandbox authorizes them at once so they are usable.
    s.brands.push(catalog::Brand {
        id: id.clone(),
        name: name.into(),
        authorized: true,
    });
    Ok(json!({ "id": id }))
}

/// Runs the create-product validation without creating anything.
pub fn listing_check(req: &Req, s: &mut State) -> ApiResult {
    let body = req.json()?;
    Ok(match s.validate_product(req.shop(), &body, true) {
        Ok(()) => {
            json!({ "check_result": "PASS", "fail_reasons": [], "listing_quality": { "current_tier": "GOOD" } })
        }
        Err(e) => {
            json!({ "check_result": "FAILED", "fail_reasons": [{ "code": e.code, "message": e.message }], "listing_quality": { "current_tier": "POOR" } })
        }
    })
}

pub fn file_upload(req: &Req, s: &mut State) -> ApiResult {
    let ct = req.content_type.unwrap_or("");
    if !crate::signature::is_multipart(Some(ct)) {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            codes::MULTIPART_REQUIRED,
            "content-type must be multipart/form-data",
        ));
    }
    let parts = multipart_parts(ct, req.body)
        .ok_or_else(|| ApiError::bad_request("The multipart body could not be parsed."))?;
    let data = parts
        .iter()
        .find(|(n, _, _)| n == "data")
        .map(|(_, _, d)| *d)
        .ok_or_else(|| ApiError::bad_request("form field data (the file) is required."))?;
    let name = parts
        .iter()
        .find(|(n, _, _)| n == "name")
        .map(|(_, _, d)| String::from_utf8_lossy(d).trim().to_string())
        .ok_or_else(|| ApiError::bad_request("form field name is required."))?;
    let format = if data.starts_with(b"%PDF") {
        "PDF"
    } else if data.len() > 8 && &data[4..8] == b"ftyp" {
        "MP4"
    } else {
        return Err(ApiError::bad_request("Only PDF and MP4 files are accepted."));
    };
    let limit = if format == "PDF" { 20 << 20 } else { 100 << 20 };
    if data.len() > limit {
        return Err(ApiError::business(36009021, "Uploaded file too large."));
    }
    let id = s.next_id(7_300_000_000_000_000_000);
    Ok(
        json!({ "id": id, "url": format!("{}/_sandbox/files/{id}", req.base_url), "name": name, "format": format }),
    )
}

pub fn category_rules(req: &Req, _s: &mut State) -> ApiResult {
    let id = req.params[0];
    match catalog::category(id) {
        Some(c) if c.is_leaf => Ok(json!({
            "product_certifications": [],
            "size_chart": { "is_supported": id.starts_with("6013"), "is_required": false },
            "package_dimension": { "is_required": true },
            "cod": { "is_supported": false },
        })),
        Some(_) => Err(ApiError::bad_request(format!(
            "Category {id} is not a leaf category."
        ))),
        None => Err(ApiError::not_found("category", id)),
    }
}

/// Keyword match of the title against leaf category names (the real one uses a model).
pub fn recommend_category(req: &Req, _s: &mut State) -> ApiResult {
    let body = req.json()?;
    let title = body["product_title"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("product_title is required."))?
        .to_lowercase();
    let words = [
        ("pan", "600031"),
        ("pot", "600031"),
        ("cookware", "600031"),
        ("knife", "600032"),
        ("fork", "600032"),
        ("spoon", "600032"),
        ("t-shirt", "601302"),
        ("tee", "601302"),
        ("shirt", "601303"),
        ("blouse", "601303"),
        ("case", "601760"),
        ("phone", "601760"),
    ];
    let leaf = words
        .iter()
        .find(|(w, _)| title.contains(w))
        .map(|(_, id)| *id)
        .unwrap_or("600031");
    // Recommended categories carry `name` and `level`, not `local_name` / `parent_id` (SDK
    // `RecommendCategoryResponseDataCategories`).
    let categories: Vec<Value> = catalog::category_chain(leaf)
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            json!({ "id": c["id"], "name": c["local_name"], "level": i + 1, "is_leaf": c["is_leaf"],
                    "permission_statuses": ["AVAILABLE"] })
        })
        .collect();
    Ok(json!({ "leaf_category_id": leaf, "categories": categories }))
}

#[cfg(test)]
mod tests {
    use super::multipart_parts;

    #[test]
    fn parses_fields_and_files() {
        let body = b"--B\r\nContent-Disposition: form-data; name=\"use_case\"\r\n\r\nMAIN_IMAGE\r\n--B\r\nContent-Disposition: form-data; name=\"data\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--B--\r\n";
        let parts = multipart_parts("multipart/form-data; boundary=B", body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].0.as_str(), parts[0].2),
            ("use_case", &b"MAIN_IMAGE"[..])
        );
        assert_eq!(
            (parts[1].0.as_str(), parts[1].1.as_deref(), parts[1].2),
            ("data", Some("x.png"), &b"\x89PNG"[..])
        );
        assert!(
            multipart_parts("multipart/form-data", body).is_none(),
            "no boundary"
        );
    }
}
