//! Per-client rate limits on the expensive routes: a token bucket per client address (the TCP
//! peer; a proxy in front makes every client one address, so set the limit with that in mind).
//! Beyond it: 429, JSON, `Retry-After` in whole seconds.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The client's address, set by the server on every request of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub IpAddr);

/// Clients tracked at most; beyond, buckets that have refilled are dropped (a full bucket is
/// the same as none), and if that is not enough all are, so memory stays bounded whatever the
/// number of addresses.
const MAX_CLIENTS: usize = 10_000;

/// Token buckets per client address.
#[derive(Debug)]
pub struct RateLimit {
    /// Requests a client may make at once.
    burst: f64,
    /// Requests per second it regains.
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimit {
    /// `burst` requests at once, then `per_second`.
    #[must_use]
    pub fn new(burst: u32, per_second: f64) -> Arc<Self> {
        Arc::new(Self {
            burst: f64::from(burst.max(1)),
            per_second: per_second.max(1e-3),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from `client`'s bucket: `Ok`, or `Err(seconds to wait)`.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
            // Still full (that many clients active at once): start afresh, which gives each at
            // most one more burst.
            if buckets.len() >= MAX_CLIENTS {
                buckets.clear();
            }
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.burst, now));
        let refilled = (*tokens
            + now.saturating_duration_since(*at).as_secs_f64() * self.per_second)
            .min(self.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(((1.0 - refilled) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

/// The middleware for expensive routes (requests without a [`Peer`], as in-process tests, are
/// not limited).
pub(super) async fn limit(
    axum::extract::State(rate): axum::extract::State<Arc<RateLimit>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(Peer(ip)) = req.extensions().get::<Peer>().copied() else {
        return next.run(req).await;
    };
    match rate.take(ip, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => too_many(&rate, ip, wait),
    }
}

/// 429 for `ip`, to retry in `wait` seconds.
pub(super) fn too_many(rate: &RateLimit, ip: IpAddr, wait: u64) -> Response {
    let mut res = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(json!({ "error": format!(
            "too many H3 layers, plans, what-ifs or exports from {ip}: at most {} at once and {} per second; try again in {wait} s",
            rate.burst, rate.per_second
        ) })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let r = RateLimit::new(3, 2.0);
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(r.take(ip, t0), Ok(()));
        }
        assert_eq!(
            r.take(ip, t0),
            Err(1),
            "bucket empty: 0.5 s to the next, said as 1 s"
        );
        assert_eq!(
            r.take(other, t0),
            Ok(()),
            "another client has its own bucket"
        );
        // 0.5 s later one request is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(r.take(ip, t1), Ok(()));
        assert!(r.take(ip, t1).is_err());
        // Long idle: back to the burst, not beyond.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(r.take(ip, t2), Ok(()));
        }
        assert!(r.take(ip, t2).is_err());
    }

    #[test]
    fn memory_is_bounded_by_the_number_of_clients() {
        let r = RateLimit::new(2, 1.0);
        let t0 = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 500) {
            let ip = IpAddr::from(i.to_be_bytes());
            let _ = r.take(ip, t0);
            assert!(r.buckets.lock().unwrap().len() <= MAX_CLIENTS);
        }
        // Refilled buckets are dropped first when the table is full.
        let r = RateLimit::new(2, 1.0);
        for i in 0..MAX_CLIENTS as u32 {
            let _ = r.take(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert_eq!(r.buckets.lock().unwrap().len(), MAX_CLIENTS);
        let later = t0 + Duration::from_secs(10);
        let _ = r.take("192.0.2.1".parse().unwrap(), later);
        assert_eq!(r.buckets.lock().unwrap().len(), 1);
    }
}
