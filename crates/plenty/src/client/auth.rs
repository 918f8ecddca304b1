//! The back-end login (spec C.1): one token per client, shared by every call.
//!
//! plentymarkets allows only a few concurrent back-end sessions per system (default 3; a 4th login gets
//! 429 `too_many_concurrent_sessions`), so logging in per call — or per concurrent caller — is not an
//! option. However many callers find no (or a stale) token at once, one login or refresh runs and the
//! others wait for its result (single-flight). The token is refreshed ahead of expiry; a 401 drops the
//! token of that generation only, so 32 callers hitting the same 401 cause one re-login.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use tts_core::{Error, ErrorCode, Result, SecretString};

/// What `POST /rest/login` and `/rest/login/refresh` answer. Both spellings are accepted: current
/// docs show snake_case, older clients and the legacy refresh doc camelCase.
#[derive(Deserialize)]
struct LoginBody {
    #[serde(alias = "accessToken")]
    access_token: Option<String>,
    #[serde(alias = "refreshToken")]
    refresh_token: Option<String>,
    #[serde(alias = "expiresIn")]
    expires_in: Option<serde_json::Value>,
    #[serde(alias = "tokenType")]
    token_type: Option<String>,
}

/// Tokens from a login or refresh. `Debug` never shows them.
#[derive(Clone)]
pub struct LoginTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: Duration,
}

impl fmt::Debug for LoginTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginTokens")
            .field("access_token", &"[REDACTED]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Used when the login answer gives no lifetime (the documented default is a day).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(86_400);
/// Longer announced lifetimes are read as this: a token is renewed at least every 30 days, and a
/// value like `1e300` cannot overflow the clock (found by the `plenty_login` fuzz target).
const MAX_LIFETIME_SECS: f64 = 30.0 * 86_400.0;

/// Decodes a login/refresh answer. Pure; errors name the field, never a value.
pub fn parse_login(body: &[u8]) -> Result<LoginTokens> {
    let raw: LoginBody = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorCode::InvalidResponse,
            format!(
                "plentymarkets login answer is not the expected JSON object: {}",
                e.classify_str()
            ),
        )
    })?;
    let access = raw.access_token.filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidResponse,
            "plentymarkets login answer has no `access_token`",
        )
        .with_field("access_token")
    })?;
    if let Some(kind) = &raw.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(Error::new(
            ErrorCode::InvalidResponse,
            format!("plentymarkets login answer has `token_type` {kind:?}, expected Bearer"),
        )
        .with_field("token_type"));
    }
    let expires_in = match raw.expires_in {
        None | Some(serde_json::Value::Null) => DEFAULT_LIFETIME,
        Some(v) => v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Duration::from_secs_f64(s.min(MAX_LIFETIME_SECS)))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidResponse,
                    "plentymarkets login answer has a malformed `expires_in`",
                )
                .with_field("expires_in")
            })?,
    };
    Ok(LoginTokens {
        access_token: SecretString::from(access),
        refresh_token: raw
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(SecretString::from),
        expires_in,
    })
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    // serde's message may quote the body (and with it a token); say only what kind of problem it was.
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "unexpected field types",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}

/// When a token of `lifetime` issued at `issued` should be renewed: 5 minutes before expiry, or after
/// 80 % of a short lifetime. Pure.
pub fn renew_at(issued: Instant, lifetime: Duration) -> Instant {
    let ahead = Duration::from_secs(300).min(lifetime / 5);
    issued + lifetime.saturating_sub(ahead)
}

struct Session {
    access_token: SecretString,
    refresh_token: Option<SecretString>,
    renew_at: Instant,
    expires_at_unix: i64,
    generation: u64,
}

/// The current session, to keep (sealed) across restarts: a process that logs in anew on every start
/// leaves its old sessions valid for a day, and with ~3 allowed the next start is refused. `Debug`
/// shows no token.
#[derive(Clone)]
pub struct SessionSnapshot {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds when the access token expires.
    pub expires_at_unix: i64,
}

impl fmt::Debug for SessionSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSnapshot")
            .field("access_token", &"[REDACTED]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("expires_at_unix", &self.expires_at_unix)
            .finish()
    }
}

/// Told about every new session or refreshed token (e.g. to seal it into the store).
pub type SessionHook = std::sync::Arc<dyn Fn(&SessionSnapshot) + Send + Sync>;

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The token a call uses, with its generation (to report a 401 against exactly this token).
#[derive(Clone)]
pub struct Lease {
    pub access_token: SecretString,
    pub generation: u64,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("access_token", &"[REDACTED]")
            .field("generation", &self.generation)
            .finish()
    }
}

/// How logins and refreshes reach the server (the client does HTTP; tests count calls).
pub trait Authenticate: Send + Sync {
    fn login(&self) -> futures_util::future::BoxFuture<'_, Result<LoginTokens>>;
    fn refresh(
        &self,
        refresh_token: SecretString,
    ) -> futures_util::future::BoxFuture<'_, Result<LoginTokens>>;
}

/// The shared token with single-flight login/refresh.
pub struct TokenCache {
    session: RwLock<Option<Session>>,
    single_flight: Mutex<()>,
    next_generation: std::sync::atomic::AtomicU64,
    on_session: Option<SessionHook>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::with_hook(None)
    }
}

impl TokenCache {
    pub fn with_hook(on_session: Option<SessionHook>) -> Self {
        TokenCache {
            session: RwLock::new(None),
            single_flight: Mutex::new(()),
            next_generation: std::sync::atomic::AtomicU64::new(1),
            on_session,
        }
    }

    /// The current session, if any.
    pub async fn snapshot(&self) -> Option<SessionSnapshot> {
        self.session.read().await.as_ref().map(|s| SessionSnapshot {
            access_token: s.access_token.clone(),
            refresh_token: s.refresh_token.clone(),
            expires_at_unix: s.expires_at_unix,
        })
    }

    /// Adopts a kept session (before the first call). An expired one is refreshed on first use; one
    /// the server no longer knows answers 401 and is replaced by a login.
    pub async fn restore(&self, snapshot: SessionSnapshot) {
        let remaining =
            Duration::from_secs(u64::try_from(snapshot.expires_at_unix - now_unix()).unwrap_or(0));
        let generation = self
            .next_generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self.session.write().await = Some(Session {
            access_token: snapshot.access_token,
            refresh_token: snapshot.refresh_token,
            renew_at: renew_at(Instant::now(), remaining),
            expires_at_unix: snapshot.expires_at_unix,
            generation,
        });
    }

    /// A token fresh enough to use, logging in or refreshing first when needed.
    pub async fn lease(&self, auth: &dyn Authenticate) -> Result<Lease> {
        if let Some(lease) = self.fresh(Instant::now()).await {
            return Ok(lease);
        }
        let _single_flight = self.single_flight.lock().await;
        // Someone else may have logged in while we waited.
        if let Some(lease) = self.fresh(Instant::now()).await {
            return Ok(lease);
        }
        let refresh_token = self
            .session
            .read()
            .await
            .as_ref()
            .and_then(|s| s.refresh_token.clone());
        let tokens = match refresh_token {
            // A failed refresh (expired refresh token, session gone) falls back to a full login.
            Some(refresh) => match auth.refresh(refresh.clone()).await {
                // Keep the refresh token when the answer carries no new one.
                Ok(t) => LoginTokens {
                    refresh_token: t.refresh_token.or(Some(refresh)),
                    ..t
                },
                Err(e) if is_auth_rejection(&e) => auth.login().await?,
                Err(e) => return Err(e),
            },
            None => auth.login().await?,
        };
        Ok(self.install(tokens).await)
    }

    async fn fresh(&self, now: Instant) -> Option<Lease> {
        let session = self.session.read().await;
        session.as_ref().filter(|s| now < s.renew_at).map(|s| Lease {
            access_token: s.access_token.clone(),
            generation: s.generation,
        })
    }

    async fn install(&self, tokens: LoginTokens) -> Lease {
        let generation = self
            .next_generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = Session {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token,
            renew_at: renew_at(Instant::now(), tokens.expires_in),
            expires_at_unix: now_unix().saturating_add(tokens.expires_in.as_secs() as i64),
            generation,
        };
        let snapshot = SessionSnapshot {
            access_token: session.access_token.clone(),
            refresh_token: session.refresh_token.clone(),
            expires_at_unix: session.expires_at_unix,
        };
        *self.session.write().await = Some(session);
        if let Some(hook) = &self.on_session {
            hook(&snapshot);
        }
        Lease {
            access_token: tokens.access_token,
            generation,
        }
    }

    /// The server answered 401 for the token of `generation`: forget it (unless a newer one already
    /// replaced it), so the next lease logs in again. The refresh token goes too: the session is gone.
    pub async fn rejected(&self, generation: u64) {
        let mut session = self.session.write().await;
        if session.as_ref().is_some_and(|s| s.generation == generation) {
            *session = None;
        }
    }
}

/// Whether a login/refresh error means "these credentials or this refresh token are not accepted".
pub fn is_auth_rejection(error: &Error) -> bool {
    matches!(
        error.code(),
        ErrorCode::ConfigInvalid | ErrorCode::PermissionDenied
    ) || error.http_status == Some(401)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tts_core::ExposeSecret;

    #[test]
    fn login_answer_in_both_spellings() {
        let t = parse_login(
            br#"{"token_type":"Bearer","expires_in":86400,"access_token":"a1","refresh_token":"r1"}"#,
        )
        .unwrap();
        assert_eq!(t.access_token.expose_secret(), "a1");
        assert_eq!(t.expires_in, Duration::from_secs(86400));
        let t =
            parse_login(br#"{"tokenType":"Bearer","expiresIn":"60","accessToken":"a2","refreshToken":"r2"}"#)
                .unwrap();
        assert_eq!(t.refresh_token.unwrap().expose_secret(), "r2");
        assert_eq!(t.expires_in, Duration::from_secs(60));
        let e = parse_login(br#"{"refresh_token":"r"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("access_token"));
        // An absurd lifetime is capped instead of panicking; a negative one is refused.
        let t = parse_login(br#"{"access_token":"a3","expires_in":1e300}"#).unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(30 * 86_400));
        let e = parse_login(br#"{"access_token":"a4","expires_in":-5}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("expires_in"));
        let e = parse_login(br#"{"access_token":"secret-tok", "expires_in": "soon"}"#).unwrap_err();
        assert!(!format!("{e:?}").contains("secret-tok"));
        assert!(
            !format!(
                "{t:?}",
                t = parse_login(br#"{"access_token":"hidden1"}"#).unwrap()
            )
            .contains("hidden1")
        );
    }

    #[test]
    fn renews_ahead_of_expiry() {
        let t0 = Instant::now();
        assert_eq!(
            renew_at(t0, Duration::from_secs(86_400)),
            t0 + Duration::from_secs(86_100)
        );
        assert_eq!(renew_at(t0, Duration::from_secs(10)), t0 + Duration::from_secs(8));
    }

    struct Counting {
        logins: AtomicUsize,
        refreshes: AtomicUsize,
        lifetime: Duration,
    }

    impl Authenticate for Counting {
        fn login(&self) -> futures_util::future::BoxFuture<'_, Result<LoginTokens>> {
            Box::pin(async move {
                let n = self.logins.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(LoginTokens {
                    access_token: SecretString::from(format!("access-{n}")),
                    refresh_token: Some(SecretString::from(format!("refresh-{n}"))),
                    expires_in: self.lifetime,
                })
            })
        }
        fn refresh(&self, _: SecretString) -> futures_util::future::BoxFuture<'_, Result<LoginTokens>> {
            Box::pin(async move {
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                Ok(LoginTokens {
                    access_token: SecretString::from("refreshed".to_string()),
                    refresh_token: None,
                    expires_in: self.lifetime,
                })
            })
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_login_and_a_401_causes_one_relogin() {
        let cache = Arc::new(TokenCache::default());
        let auth = Arc::new(Counting {
            logins: AtomicUsize::new(0),
            refreshes: AtomicUsize::new(0),
            lifetime: Duration::from_secs(3600),
        });
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (cache, auth) = (cache.clone(), auth.clone());
            tasks.push(tokio::spawn(async move { cache.lease(&*auth).await.unwrap() }));
        }
        let mut generations = Vec::new();
        for t in tasks {
            generations.push(t.await.unwrap().generation);
        }
        assert_eq!(auth.logins.load(Ordering::SeqCst), 1);
        assert!(generations.iter().all(|g| *g == generations[0]));
        // every caller reports the same 401: one re-login
        for _ in 0..32 {
            cache.rejected(generations[0]).await;
        }
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (cache, auth) = (cache.clone(), auth.clone());
            tasks.push(tokio::spawn(async move { cache.lease(&*auth).await.unwrap() }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(auth.logins.load(Ordering::SeqCst), 2);
        // a late 401 for the old generation does not drop the new token
        cache.rejected(generations[0]).await;
        cache.lease(&*auth).await.unwrap();
        assert_eq!(auth.logins.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_stale_token_is_refreshed_not_logged_in_again() {
        let cache = TokenCache::default();
        let auth = Counting {
            logins: AtomicUsize::new(0),
            refreshes: AtomicUsize::new(0),
            lifetime: Duration::from_millis(50),
        };
        cache.lease(&auth).await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        let lease = cache.lease(&auth).await.unwrap();
        assert_eq!(lease.access_token.expose_secret(), "refreshed");
        assert_eq!(
            (
                auth.logins.load(Ordering::SeqCst),
                auth.refreshes.load(Ordering::SeqCst)
            ),
            (1, 1)
        );
    }
}
