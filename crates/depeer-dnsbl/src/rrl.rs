//! Response rate limiting, as BIND and Knot do it in spirit: each client
//! network (/24 for IPv4, /56 for IPv6) gets a token bucket of `rate`
//! responses per second. Over the limit, responses are dropped, except
//! every `slip`-th one, which is sent truncated (TC set, no records) so a
//! real resolver behind a spoofed flood retries over TCP, which is never
//! limited. This blunts reflection attacks using the server as an
//! amplifier while legitimate resolvers still get their answers.
//!
//! Simplification against BIND: the account is per client network only,
//! not per (network, response name/type); a blocklist's queries are all
//! different names, so per-name accounts would rarely fire.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Shards of the account table (less lock contention between workers).
const SHARDS: usize = 16;
/// Accounts kept per shard before idle ones are forgotten.
const MAX_ACCOUNTS: usize = 65_536;

/// RRL settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RrlConfig {
    /// Responses per second per client network; 0 turns RRL off.
    pub rate: u32,
    /// Every `slip`-th limited response is sent truncated; 0 drops all,
    /// 1 truncates all. BIND's default is 2.
    pub slip: u32,
    /// IPv4 network prefix length (BIND: 24).
    pub ipv4_prefix: u8,
    /// IPv6 network prefix length (BIND: 56).
    pub ipv6_prefix: u8,
}

impl Default for RrlConfig {
    fn default() -> Self {
        Self {
            rate: 0,
            slip: 2,
            ipv4_prefix: 24,
            ipv6_prefix: 56,
        }
    }
}

/// What to do with one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RrlVerdict {
    /// Send it.
    Send,
    /// Send it truncated (TC, no records).
    Slip,
    /// Drop it.
    Drop,
}

#[derive(Debug, Clone, Copy)]
struct Account {
    /// Tokens in thousandths of a response.
    milli: i64,
    last_ms: u64,
    limited: u32,
}

/// The limiter, shared by all workers.
#[derive(Debug)]
pub struct Rrl {
    cfg: RrlConfig,
    shards: Vec<Mutex<HashMap<u128, Account, foldhash::fast::RandomState>>>,
}

impl Rrl {
    /// A limiter with these settings.
    pub fn new(cfg: RrlConfig) -> Self {
        Self {
            cfg,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Whether RRL is on.
    pub fn enabled(&self) -> bool {
        self.cfg.rate > 0
    }

    fn key(&self, ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(a) => {
                let bits = u32::from(self.cfg.ipv4_prefix.min(32));
                let m = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u128::from(u32::from(a) & m) | (1u128 << 127) >> 1
            }
            IpAddr::V6(a) => {
                let bits = u32::from(self.cfg.ipv6_prefix.min(128));
                let m = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(a) & m
            }
        }
    }

    /// Accounts one response to `ip` at `now_ms` (a monotonic clock in
    /// milliseconds) and says what to do with it.
    pub fn check(&self, ip: IpAddr, now_ms: u64) -> RrlVerdict {
        if self.cfg.rate == 0 {
            return RrlVerdict::Send;
        }
        let key = self.key(ip);
        let shard = (key as usize ^ (key >> 64) as usize).wrapping_mul(0x9e37_79b9) >> 8;
        let Some(m) = self.shards.get(shard % SHARDS) else {
            return RrlVerdict::Send;
        };
        let Ok(mut map) = m.lock() else {
            return RrlVerdict::Send;
        };
        let cap = i64::from(self.cfg.rate) * 1000;
        if map.len() >= MAX_ACCOUNTS {
            map.retain(|_, a| now_ms.saturating_sub(a.last_ms) < 1000);
        }
        let a = map.entry(key).or_insert(Account {
            milli: cap,
            last_ms: now_ms,
            limited: 0,
        });
        let elapsed = i64::try_from(now_ms.saturating_sub(a.last_ms)).unwrap_or(i64::MAX);
        a.milli = a
            .milli
            .saturating_add(elapsed.saturating_mul(i64::from(self.cfg.rate)))
            .min(cap);
        a.last_ms = now_ms;
        if a.milli >= 1000 {
            a.milli -= 1000;
            return RrlVerdict::Send;
        }
        a.limited = a.limited.wrapping_add(1);
        if self.cfg.slip > 0 && a.limited % self.cfg.slip == 0 {
            RrlVerdict::Slip
        } else {
            RrlVerdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: u32, slip: u32) -> Rrl {
        Rrl::new(RrlConfig {
            rate,
            slip,
            ..RrlConfig::default()
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn limits_per_network_and_refills() {
        let rrl = limiter(5, 2);
        let (a, same_net, other) = (ip("192.0.2.1"), ip("192.0.2.200"), ip("198.51.100.1"));
        let sent = (0..5)
            .filter(|_| rrl.check(a, 1000) == RrlVerdict::Send)
            .count();
        assert_eq!(sent, 5);
        // The /24 shares the account: the next ones are limited, every
        // second one slips.
        let v: Vec<_> = (0..4).map(|_| rrl.check(same_net, 1000)).collect();
        assert_eq!(
            v,
            [
                RrlVerdict::Drop,
                RrlVerdict::Slip,
                RrlVerdict::Drop,
                RrlVerdict::Slip
            ]
        );
        assert_eq!(rrl.check(other, 1000), RrlVerdict::Send);
        // 200 ms later one token is back (5/s).
        assert_eq!(rrl.check(a, 1200), RrlVerdict::Send);
        assert_ne!(rrl.check(a, 1200), RrlVerdict::Send);
    }

    #[test]
    fn ipv6_by_56() {
        let rrl = limiter(1, 0);
        let (a, b, c) = (
            ip("2001:db8:0:1::1"),
            ip("2001:db8:0:ff::1"),
            ip("2001:db8:0:100::1"),
        );
        assert_eq!(rrl.check(a, 0), RrlVerdict::Send);
        assert_eq!(rrl.check(b, 0), RrlVerdict::Drop);
        assert_eq!(rrl.check(c, 0), RrlVerdict::Send);
    }

    #[test]
    fn off_by_default() {
        let rrl = Rrl::new(RrlConfig::default());
        assert!((0..10_000).all(|_| rrl.check(ip("192.0.2.1"), 0) == RrlVerdict::Send));
    }
}
