//! Connection limits: at most `total` sessions at once and at most
//! `per_ip` from one address. A slot is held by a [`Slot`] guard and given
//! back when the session ends, however it ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The counters.
#[derive(Debug)]
pub(crate) struct ConnLimits {
    total: usize,
    per_ip: usize,
    state: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One admitted connection.
#[derive(Debug)]
pub(crate) struct Slot {
    limits: Arc<ConnLimits>,
    ip: IpAddr,
}

impl ConnLimits {
    pub(crate) fn new(total: usize, per_ip: usize) -> Self {
        ConnLimits {
            total,
            per_ip,
            state: Mutex::new((0, HashMap::new())),
        }
    }

    /// A slot for a connection from `ip`, or `None` over a limit.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (active, by_ip) = &mut *st;
        let n = by_ip.get(&ip).copied().unwrap_or(0);
        if *active >= self.total || n >= self.per_ip {
            return None;
        }
        *active += 1;
        by_ip.insert(ip, n + 1);
        Some(Slot {
            limits: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut st = self.limits.state.lock().unwrap_or_else(|p| p.into_inner());
        let (active, by_ip) = &mut *st;
        *active = active.saturating_sub(1);
        if let Some(n) = by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                by_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_and_per_address_limits_hold_and_slots_come_back() {
        let l = Arc::new(ConnLimits::new(3, 2));
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let s1 = l.admit(a).unwrap();
        let _s2 = l.admit(a).unwrap();
        assert!(l.admit(a).is_none());
        let _s3 = l.admit(b).unwrap();
        assert!(l.admit(b).is_none());
        drop(s1);
        assert!(l.admit(a).is_some());
    }
}
