//! PlentyONE allows only a few concurrent back-end sessions per user (3 by default) and a login is
//! valid for a day: a process that logs in afresh on every start would lock itself out after a few
//! restarts. So the session is kept in the store, sealed, and restored at start; every new or refreshed
//! session is saved again.

use std::sync::Arc;

use serde_json::json;
use tts_core::{ExposeSecret, Result, SecretString};
use tts_plenty::client::auth::SessionSnapshot;
use tts_plenty::client::{Client, ClientOptions};
use tts_store::Store;

/// The store's name for the session of a user on a system.
fn secret_name(options: &ClientOptions) -> String {
    format!(
        "plenty-session:{}@{}",
        options.username,
        options.base_url.trim_end_matches('/')
    )
}

fn encode(s: &SessionSnapshot) -> SecretString {
    SecretString::from(
        json!({
            "access_token": s.access_token.expose_secret(),
            "refresh_token": s.refresh_token.as_ref().map(|t| t.expose_secret().to_string()),
            "expires_at_unix": s.expires_at_unix,
        })
        .to_string(),
    )
}

fn decode(text: &SecretString) -> Option<SessionSnapshot> {
    let v: serde_json::Value = serde_json::from_str(text.expose_secret()).ok()?;
    Some(SessionSnapshot {
        access_token: SecretString::from(v["access_token"].as_str()?.to_string()),
        refresh_token: v["refresh_token"]
            .as_str()
            .map(|t| SecretString::from(t.to_string())),
        expires_at_unix: v["expires_at_unix"].as_i64()?,
    })
}

/// A PlentyONE client whose session outlives the process: restored from `store` when one is saved
/// (an expired or revoked one is replaced by the client's normal re-login), saved on every change.
pub async fn client_with_saved_session(mut options: ClientOptions, store: Arc<dyn Store>) -> Result<Client> {
    let name = secret_name(&options);
    let saver = store.clone();
    let saved_as = name.clone();
    options.on_session = Some(Arc::new(move |session: &SessionSnapshot| {
        let (store, name, value) = (saver.clone(), saved_as.clone(), encode(session));
        tokio::spawn(async move {
            if let Err(e) = store.save_secret(&name, &value).await {
                tracing::warn!(code = %e.code(), "could not save the PlentyONE session; the next start logs in again");
            }
        });
    }));
    let client = Client::new(options)?;
    if let Some(snapshot) = store.load_secret(&name).await?.as_ref().and_then(decode) {
        client.restore_session(snapshot).await;
    }
    Ok(client)
}
