//! Back-end sessions: login issues an access and a refresh token; at most `cap` sessions per user are
//! valid at once (a further login gets 429 `too_many_concurrent_sessions`); tokens expire.

use std::time::{Duration, Instant};

use rand::Rng;

#[derive(Clone, Debug)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: Instant,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    TooManySessions,
}

pub struct Sessions {
    pub cap: usize,
    pub ttl: Duration,
    sessions: Vec<Session>,
}

fn token(prefix: &str) -> String {
    let mut rng = rand::rng();
    let bytes: [u8; 24] = rng.random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

impl Sessions {
    pub fn new(cap: usize, ttl: Duration) -> Self {
        Sessions {
            cap,
            ttl,
            sessions: Vec::new(),
        }
    }

    fn purge(&mut self, now: Instant) {
        self.sessions.retain(|s| s.expires_at > now);
    }

    pub fn valid_count(&mut self, now: Instant) -> usize {
        self.purge(now);
        self.sessions.len()
    }

    pub fn login(&mut self, now: Instant) -> Result<Session, LoginError> {
        self.purge(now);
        if self.sessions.len() >= self.cap {
            return Err(LoginError::TooManySessions);
        }
        let s = Session {
            access_token: token("pat_"),
            refresh_token: token("prt_"),
            expires_at: now + self.ttl,
        };
        self.sessions.push(s.clone());
        Ok(s)
    }

    /// A new access token for the same session (the session count does not change).
    pub fn refresh(&mut self, refresh_token: &str, now: Instant) -> Option<Session> {
        self.purge(now);
        let ttl = self.ttl;
        let s = self
            .sessions
            .iter_mut()
            .find(|s| s.refresh_token == refresh_token)?;
        s.access_token = token("pat_");
        s.expires_at = now + ttl;
        Some(s.clone())
    }

    pub fn is_valid(&mut self, access_token: &str, now: Instant) -> bool {
        self.purge(now);
        self.sessions.iter().any(|s| s.access_token == access_token)
    }

    /// Ends one session (its tokens answer 401 from now on).
    pub fn invalidate(&mut self, access_token: &str) -> bool {
        let before = self.sessions.len();
        self.sessions.retain(|s| s.access_token != access_token);
        before != self.sessions.len()
    }

    /// Ends every session; returns how many there were.
    pub fn clear(&mut self) -> usize {
        std::mem::take(&mut self.sessions).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_valid_sessions_only() {
        let mut s = Sessions::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let first = s.login(t0).unwrap();
        s.login(t0).unwrap();
        s.login(t0).unwrap();
        assert_eq!(s.login(t0).unwrap_err(), LoginError::TooManySessions);
        let refreshed = s.refresh(&first.refresh_token, t0).unwrap();
        assert!(!s.is_valid(&first.access_token, t0));
        assert!(s.is_valid(&refreshed.access_token, t0));
        assert_eq!(s.valid_count(t0), 3);
        assert!(s.invalidate(&refreshed.access_token));
        s.login(t0).unwrap();
        assert_eq!(s.valid_count(t0 + Duration::from_secs(11)), 0);
    }
}
