//! A shop's tokens: refreshed ahead of expiry and once after a 105002, single-flight per shop (however
//! many calls find the token stale at once, one refresh runs and the others wait for its result).
//! A revoked grant (105001, refresh refused) marks the shop as needing re-authorization: later calls
//! fail at once instead of looping.

use std::time::Duration;

use tokio::sync::{Mutex, RwLock};
use tts_core::{Error, ErrorCode, Result, SecretString};

use crate::oauth::TokenSet;

/// True when the access token is expired or expires within `margin`. Pure.
pub fn needs_refresh(access_token_expire_in: i64, now: i64, margin: Duration) -> bool {
    access_token_expire_in - (margin.as_secs() as i64) <= now
}

struct State {
    tokens: TokenSet,
    /// Bumped on every refresh, so a caller that saw 105002 with an old token doesn't refresh again.
    generation: u64,
    reauthorization_required: Option<String>,
}

/// What a caller holds while it uses a token. `Debug` redacts the token.
#[derive(Clone)]
pub struct TokenLease {
    pub access_token: SecretString,
    pub generation: u64,
}

impl std::fmt::Debug for TokenLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenLease")
            .field("access_token", &"[REDACTED]")
            .field("generation", &self.generation)
            .finish()
    }
}

pub struct ShopTokens {
    state: RwLock<State>,
    refreshing: Mutex<()>,
}

/// How a refresh is performed (the client calls TikTok's auth host; tests count calls).
pub trait Refresh: Send + Sync {
    fn refresh(&self, refresh_token: SecretString) -> crate::client::BoxFuture<'_, Result<TokenSet>>;
}

/// What the owner hears about a refresh.
pub enum RefreshOutcome {
    Refreshed(TokenSet),
    ReauthorizationRequired(Error),
}

impl ShopTokens {
    pub fn new(tokens: TokenSet) -> Self {
        ShopTokens {
            state: RwLock::new(State {
                tokens,
                generation: 0,
                reauthorization_required: None,
            }),
            refreshing: Mutex::new(()),
        }
    }

    /// Replaces the tokens (e.g. after a new OAuth connection) and clears a re-authorization mark.
    pub async fn replace(&self, tokens: TokenSet) {
        let mut s = self.state.write().await;
        s.tokens = tokens;
        s.generation += 1;
        s.reauthorization_required = None;
    }

    fn reauth_error(reason: &str) -> Error {
        Error::new(
            ErrorCode::ReauthorizationRequired,
            format!("the shop must be connected again: {reason}"),
        )
    }

    /// A token valid for at least `margin`, refreshing first if needed. `on_outcome` is told about a
    /// refresh this call performed (to persist the tokens or raise the re-authorization event).
    pub async fn lease(
        &self,
        now: i64,
        margin: Duration,
        refresher: &dyn Refresh,
        on_outcome: &(dyn Fn(RefreshOutcome) + Send + Sync),
    ) -> Result<TokenLease> {
        {
            let s = self.state.read().await;
            if let Some(reason) = &s.reauthorization_required {
                return Err(Self::reauth_error(reason));
            }
            if !needs_refresh(s.tokens.access_token_expire_in, now, margin) {
                return Ok(TokenLease {
                    access_token: s.tokens.access_token.clone(),
                    generation: s.generation,
                });
            }
        }
        self.refresh_if(
            |s| needs_refresh(s.tokens.access_token_expire_in, now, margin),
            now,
            refresher,
            on_outcome,
        )
        .await
    }

    /// After TikTok answered 105002 for the token of `generation`: refresh unless someone already did.
    pub async fn refresh_after_rejection(
        &self,
        generation: u64,
        now: i64,
        refresher: &dyn Refresh,
        on_outcome: &(dyn Fn(RefreshOutcome) + Send + Sync),
    ) -> Result<TokenLease> {
        self.refresh_if(|s| s.generation == generation, now, refresher, on_outcome)
            .await
    }

    async fn refresh_if(
        &self,
        still_needed: impl Fn(&State) -> bool,
        now: i64,
        refresher: &dyn Refresh,
        on_outcome: &(dyn Fn(RefreshOutcome) + Send + Sync),
    ) -> Result<TokenLease> {
        let _single_flight = self.refreshing.lock().await;
        let refresh_token = {
            let s = self.state.read().await;
            if let Some(reason) = &s.reauthorization_required {
                return Err(Self::reauth_error(reason));
            }
            if !still_needed(&s) {
                // another caller refreshed while we waited
                return Ok(TokenLease {
                    access_token: s.tokens.access_token.clone(),
                    generation: s.generation,
                });
            }
            if s.tokens.refresh_token_expire_in > 0 && s.tokens.refresh_token_expire_in <= now {
                drop(s);
                return Err(self.mark_reauth("the refresh token expired", on_outcome).await);
            }
            s.tokens.refresh_token.clone()
        };
        match refresher.refresh(refresh_token).await {
            Ok(tokens) => {
                let mut s = self.state.write().await;
                s.tokens = tokens.clone();
                s.generation += 1;
                let lease = TokenLease {
                    access_token: s.tokens.access_token.clone(),
                    generation: s.generation,
                };
                drop(s);
                on_outcome(RefreshOutcome::Refreshed(tokens));
                Ok(lease)
            }
            Err(e) if e.code() == ErrorCode::ReauthorizationRequired => {
                Err(self.mark_reauth(e.message(), on_outcome).await)
            }
            Err(e) => Err(e),
        }
    }

    async fn mark_reauth(&self, reason: &str, on_outcome: &(dyn Fn(RefreshOutcome) + Send + Sync)) -> Error {
        let error = Self::reauth_error(reason);
        self.state.write().await.reauthorization_required = Some(reason.to_string());
        on_outcome(RefreshOutcome::ReauthorizationRequired(error.clone()));
        error
    }

    /// True when `refresh_token` is this state's current refresh token (shops of one authorization).
    pub async fn holds_refresh_token(&self, refresh_token: &SecretString) -> bool {
        use tts_core::ExposeSecret;
        self.state.read().await.tokens.refresh_token.expose_secret() == refresh_token.expose_secret()
    }

    /// The generation of the current token.
    pub async fn generation(&self) -> u64 {
        self.state.read().await.generation
    }

    /// Marks the shop after TikTok said the token was deauthorized (105001).
    pub async fn deauthorized(
        &self,
        error: &Error,
        on_outcome: &(dyn Fn(RefreshOutcome) + Send + Sync),
    ) -> Error {
        self.mark_reauth(error.message(), on_outcome).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tts_core::ExposeSecret;
    use tts_core::secret::secret;

    fn tokens(access: &str, expires: i64) -> TokenSet {
        TokenSet {
            access_token: secret(access),
            access_token_expire_in: expires,
            refresh_token: secret(format!("refresh-{access}")),
            refresh_token_expire_in: 0,
            open_id: String::new(),
            seller_name: String::new(),
            seller_base_region: String::new(),
            user_type: 0,
            granted_scopes: vec![],
        }
    }

    struct Counting {
        calls: AtomicUsize,
        fail_with: Option<ErrorCode>,
    }

    impl Refresh for Counting {
        fn refresh(&self, refresh_token: SecretString) -> crate::client::BoxFuture<'_, Result<TokenSet>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
                if let Some(code) = self.fail_with {
                    return Err(Error::new(code, "refused"));
                }
                assert!(refresh_token.expose_secret().starts_with("refresh-"));
                Ok(tokens(&format!("new-{n}"), 10_000))
            })
        }
    }

    #[test]
    fn refresh_ahead_of_expiry() {
        assert!(!needs_refresh(1_000, 600, Duration::from_secs(300)));
        assert!(needs_refresh(1_000, 700, Duration::from_secs(300)));
        assert!(needs_refresh(1_000, 1_001, Duration::ZERO));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hundred_concurrent_callers_with_an_expired_token_cause_one_refresh() {
        let shop = Arc::new(ShopTokens::new(tokens("old", 100)));
        let refresher = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            fail_with: None,
        });
        let refreshed = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (shop, refresher, refreshed) = (shop.clone(), refresher.clone(), refreshed.clone());
            tasks.push(tokio::spawn(async move {
                let on = move |o: RefreshOutcome| {
                    if matches!(o, RefreshOutcome::Refreshed(_)) {
                        refreshed.fetch_add(1, Ordering::SeqCst);
                    }
                };
                shop.lease(1_000, Duration::from_secs(60), &*refresher, &on)
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().access_token.expose_secret(), "new-1");
        }
        assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);
        assert_eq!(refreshed.load(Ordering::SeqCst), 1);

        // 105002 seen by many callers holding the same generation: again one refresh
        let lease = shop
            .lease(1_000, Duration::from_secs(60), &*refresher, &|_| {})
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (shop, refresher) = (shop.clone(), refresher.clone());
            let generation = lease.generation;
            tasks.push(tokio::spawn(async move {
                shop.refresh_after_rejection(generation, 1_000, &*refresher, &|_| {})
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().access_token.expose_secret(), "new-2");
        }
        assert_eq!(refresher.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refused_refresh_marks_the_shop_and_later_calls_fail_fast() {
        let shop = ShopTokens::new(tokens("old", 100));
        let refresher = Counting {
            calls: AtomicUsize::new(0),
            fail_with: Some(ErrorCode::ReauthorizationRequired),
        };
        let events = std::sync::Mutex::new(0);
        let on = |o: RefreshOutcome| {
            if matches!(o, RefreshOutcome::ReauthorizationRequired(_)) {
                *events.lock().unwrap() += 1;
            }
        };
        let e = shop
            .lease(1_000, Duration::ZERO, &refresher, &on)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::ReauthorizationRequired);
        let e = shop
            .lease(1_000, Duration::ZERO, &refresher, &on)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::ReauthorizationRequired);
        assert_eq!(refresher.calls.load(Ordering::SeqCst), 1, "no retry loop");
        assert_eq!(*events.lock().unwrap(), 1);

        shop.replace(tokens("reconnected", 10_000)).await;
        assert_eq!(
            shop.lease(1_000, Duration::ZERO, &refresher, &on)
                .await
                .unwrap()
                .access_token
                .expose_secret(),
            "reconnected"
        );

        // a transient refresh failure is returned but does not mark the shop
        let flaky = Counting {
            calls: AtomicUsize::new(0),
            fail_with: Some(ErrorCode::Network),
        };
        let shop = ShopTokens::new(tokens("old", 100));
        assert_eq!(
            shop.lease(1_000, Duration::ZERO, &flaky, &on)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::Network
        );
        assert_eq!(
            shop.lease(1_000, Duration::ZERO, &flaky, &on)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::Network
        );
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);
    }
}
