//! OAuth (authorize page, token get/refresh) and access-token validation.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::{Query, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::app::{Sandbox, slots};
use crate::envelope::{ApiError, codes, ok};
use crate::state::State;
use crate::state::apps::{AuthCode, Token, random_token};
use crate::stats::Outcome;

/// Validates `x-tts-access-token` for `app_key` (spec §7 codes).
pub fn check_token(state: &State, app_key: &str, header: Option<&str>, now: i64) -> Result<Token, ApiError> {
    let raw = header.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiError::invalid_param("Invalid credentials. The x-tts-access-token header is missing.")
    })?;
    let t = state.tokens.get(raw).ok_or_else(|| {
        ApiError::invalid_param("Invalid credentials. The x-tts-access-token header is invalid.")
    })?;
    if t.app_key != app_key {
        return Err(ApiError::invalid_param(
            "Invalid credentials. The access token was not issued to this app_key.",
        ));
    }
    if t.revoked {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::TOKEN_REVOKED,
            "access token is invalid; detail: your token has been deauthorized",
        ));
    }
    if t.superseded {
        return Err(ApiError::invalid_param(
            "Invalid credentials. The access token was replaced by a token refresh; use the new access token.",
        ));
    }
    if now >= t.access_expire {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::TOKEN_EXPIRED,
            "Expired credentials. The access token has expired; refresh it.",
        ));
    }
    Ok(t.clone())
}

type Q = Query<HashMap<String, String>>;

fn append_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", s.finish())
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /open/authorize?service_id=..&state=..` — auto-consent (302 to the app's redirect URL with `code`
/// and `state`) or, with `--approve-page`, a small page with Approve/Deny. Sandbox extension: `seller=<open_id>`
/// picks which seller consents (default: the seeded one).
pub async fn authorize(AxState(app): AxState<Arc<Sandbox>>, Query(q): Q) -> Response {
    let resp = authorize_inner(&app, &q, false);
    app.stats.record(
        slots::AUTHORIZE,
        if resp.status() == StatusCode::FOUND || resp.status() == StatusCode::OK {
            Outcome::Ok
        } else {
            Outcome::Error
        },
    );
    resp
}

pub async fn authorize_decision(AxState(app): AxState<Arc<Sandbox>>, Query(q): Q) -> Response {
    authorize_inner(&app, &q, true)
}

fn authorize_inner(app: &Arc<Sandbox>, q: &HashMap<String, String>, decided: bool) -> Response {
    let service_id = q.get("service_id").map(String::as_str).unwrap_or("");
    let st = app.state.lock().expect("state");
    let Some(a) = st.apps.values().find(|a| a.service_id == service_id).cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            Html(format!("<h1>Unknown service_id {}</h1>", html_escape(service_id))),
        )
            .into_response();
    };
    let open_id = match q.get("seller") {
        Some(s) => s.clone(),
        None => crate::state::apps::DEFAULT_OPEN_ID.to_string(),
    };
    if !st.sellers.contains_key(&open_id) {
        return (
            StatusCode::BAD_REQUEST,
            Html(format!("<h1>Unknown seller {}</h1>", html_escape(&open_id))),
        )
            .into_response();
    }
    drop(st);
    let state_param = q.get("state").cloned();
    if app.approve_page.load(Relaxed) && !decided {
        let mut base = vec![("service_id", service_id), ("seller", open_id.as_str())];
        if let Some(s) = &state_param {
            base.push(("state", s.as_str()));
        }
        let approve = append_query(
            "/open/authorize/decision",
            &[base.clone(), vec![("approve", "1")]].concat(),
        );
        let deny = append_query(
            "/open/authorize/decision",
            &[base, vec![("approve", "0")]].concat(),
        );
        return Html(format!(
            "<!doctype html><title>Authorize app</title><h1>Authorize app {}?</h1>\
             <p>Seller {} is asked to grant: {}</p>\
             <a id=\"approve\" href=\"{}\">Approve</a> <a id=\"deny\" href=\"{}\">Deny</a>",
            html_escape(&a.app_key),
            html_escape(&open_id),
            html_escape(&a.scopes.join(", ")),
            html_escape(&approve),
            html_escape(&deny)
        ))
        .into_response();
    }
    if decided && q.get("approve").map(String::as_str) == Some("0") {
        let mut pairs = vec![("code", "null"), ("error", "auth_denied")];
        if let Some(s) = &state_param {
            pairs.push(("state", s.as_str()));
        }
        return redirect(&append_query(&a.redirect_uri, &pairs));
    }
    let code = random_token("SBXAC_", 32);
    let ttl = app.state.lock().expect("state").settings.auth_code_ttl_ms;
    app.state.lock().expect("state").codes.insert(
        code.clone(),
        AuthCode {
            app_key: a.app_key.clone(),
            open_id,
            expires_at_ms: crate::clock::now_millis() + ttl,
            used: false,
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &state_param {
        pairs.push(("state", s.as_str()));
    }
    redirect(&append_query(&a.redirect_uri, &pairs))
}

fn check_app(st: &State, q: &HashMap<String, String>) -> Result<String, ApiError> {
    let key = q
        .get("app_key")
        .ok_or_else(|| ApiError::invalid_param("app_key is required."))?;
    let secret = q
        .get("app_secret")
        .ok_or_else(|| ApiError::invalid_param("app_secret is required."))?;
    match st.apps.get(key) {
        Some(a) if crate::signature::verify(&a.app_secret, secret) => Ok(key.clone()),
        Some(_) => Err(ApiError::invalid_param(
            "Invalid credentials. The app_secret does not match the app_key.",
        )),
        None => Err(ApiError::invalid_param(
            "Invalid credentials. The app_key is invalid.",
        )),
    }
}

/// `GET /api/v2/token/get?app_key&app_secret&auth_code&grant_type=authorized_code` (no sign).
pub async fn token_get(AxState(app): AxState<Arc<Sandbox>>, Query(q): Q) -> Response {
    const PATH: &str = "/api/v2/token/get";
    let malformed = match crate::app::fault_prelude(&app, "GET", PATH, PATH, slots::TOKEN_GET, None).await {
        Ok(m) => m,
        Err(resp) => return resp,
    };
    let r = (|| {
        let mut st = app.state.lock().expect("state");
        let app_key = check_app(&st, &q)?;
        if q.get("grant_type").map(String::as_str) != Some("authorized_code") {
            return Err(ApiError::invalid_param("grant_type must be authorized_code."));
        }
        let code = q.get("auth_code").map(String::as_str).unwrap_or("");
        let now_ms = crate::clock::now_millis();
        let bad = || ApiError::business(codes::INVALID_AUTH_CODE, "Invalid auth code.");
        let c = st.codes.get_mut(code).ok_or_else(bad)?;
        // Single use: a used or expired code is simply invalid, as on TikTok.
        if c.used || c.app_key != app_key || now_ms >= c.expires_at_ms {
            return Err(bad());
        }
        c.used = true;
        let open_id = c.open_id.clone();
        let t = st.issue_token(&app_key, &open_id, crate::clock::now_secs());
        Ok(st.token_json(&t))
    })();
    app.finish_plain(slots::TOKEN_GET, r, malformed)
}

/// `GET /api/v2/token/refresh?app_key&app_secret&refresh_token&grant_type=refresh_token` (no sign).
/// Issues a new access token (the previous one stops working); the refresh token stays the same.
pub async fn token_refresh(AxState(app): AxState<Arc<Sandbox>>, Query(q): Q) -> Response {
    const PATH: &str = "/api/v2/token/refresh";
    let malformed = match crate::app::fault_prelude(&app, "GET", PATH, PATH, slots::TOKEN_REFRESH, None).await
    {
        Ok(m) => m,
        Err(resp) => return resp,
    };
    let r = (|| {
        let mut st = app.state.lock().expect("state");
        let app_key = check_app(&st, &q)?;
        if q.get("grant_type").map(String::as_str) != Some("refresh_token") {
            return Err(ApiError::invalid_param("grant_type must be refresh_token."));
        }
        let rt = q.get("refresh_token").map(String::as_str).unwrap_or("");
        let now = crate::clock::now_secs();
        let bad = || ApiError::invalid_param("Invalid refresh_token.");
        let access = st.refresh_index.get(rt).cloned().ok_or_else(bad)?;
        let old = st.tokens.get(&access).cloned().ok_or_else(bad)?;
        if old.app_key != app_key {
            return Err(bad());
        }
        if old.revoked {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::TOKEN_REVOKED,
                "refresh token is invalid; detail: your token has been deauthorized",
            ));
        }
        if now >= old.refresh_expire {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::TOKEN_EXPIRED,
                "Expired credentials. The refresh token has expired; authorize again.",
            ));
        }
        if let Some(t) = st.tokens.get_mut(&access) {
            t.superseded = true;
        }
        let new = Token {
            access_token: random_token("TTP_", 40),
            access_expire: now + st.settings.access_token_ttl_secs,
            superseded: false,
            ..old
        };
        st.refresh_index
            .insert(new.refresh_token.clone(), new.access_token.clone());
        st.tokens.insert(new.access_token.clone(), new.clone());
        Ok(st.token_json(&new))
    })();
    app.finish_plain(slots::TOKEN_REFRESH, r, malformed)
}

impl Sandbox {
    pub fn finish_plain(
        &self,
        slot: usize,
        r: Result<serde_json::Value, ApiError>,
        malformed: bool,
    ) -> Response {
        match r {
            Ok(v) if malformed => {
                self.stats.record(slot, Outcome::Fault);
                crate::app::malformed_response(v)
            }
            Ok(v) => {
                self.stats.record(slot, Outcome::Ok);
                ok(v)
            }
            Err(e) => {
                self.stats.record(slot, Outcome::Error);
                e.into_response()
            }
        }
    }
}
