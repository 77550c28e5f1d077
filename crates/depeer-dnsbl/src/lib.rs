//! depeer's DNS blocklist: zones in rbldnsd's own syntax, a pure
//! [`answer`] function, and a UDP/TCP server ([`run_server`]) that swaps
//! its zones atomically on SIGHUP and limits response rates per client
//! network.
//!
//! * [`Zones`] holds the served zones; [`ZoneSpec`] is one
//!   `NAME=TYPE:FILE` (`ip4set`, `ip4trie`, `ip6trie`, `dnset`), read as
//!   rbldnsd(8) documents it ([`Zones::load`]); malformed lines are
//!   located, counted and skipped.
//! * [`Query::parse`] reads a packet, [`answer`] decides, [`encode`]
//!   writes the response; [`handle`] does all three.
//! * [`run_server`] / [`Server`] serve it on UDP and TCP.
//!
//! ```
//! use depeer_dnsbl::{answer, LoadOptions, Query, ZoneType, Zones};
//! let zones = Zones::from_texts(
//!     &[("bl.example", ZoneType::Ip4Set, b":127.0.0.2:Listed, see $\n192.0.2.0/24\n")],
//!     &LoadOptions::default(),
//! );
//! // 1.2.0.192.bl.example, type A, class IN
//! let mut p = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
//! p.extend_from_slice(b"\x011\x012\x010\x03192\x02bl\x07example\x00\x00\x01\x00\x01");
//! let q = Query::parse(&p).unwrap();
//! let r = answer(&zones, &q);
//! assert_eq!(r.rcode, 0);
//! assert_eq!(r.answers.len(), 1);
//! ```

mod addr;
mod answer;
mod dataset;
mod error;
pub mod export;
mod ipmap;
mod mem;
mod name;
mod query;
mod rrl;
mod server;
mod udp;
mod value;
mod wire;
mod zone;
mod zonefile;

pub use answer::{Owner, RData, Record, Response, SoaData, answer, rcode, rtype, warm};
pub use dataset::{Dataset, Soa};
pub use error::DnsblError;
pub use query::{Edns, ParseError, Query};
pub use rrl::{Rrl, RrlConfig, RrlVerdict};
pub use server::{ReloadHook, Server, ServerConfig, Stats, run_server};
pub use value::Value;
pub use wire::{CLASSIC_UDP, MAX_UDP, Transport, encode, encode_formerr};
pub use zone::{LoadOptions, Zone, ZoneSpec, ZoneType, Zones};

/// What [`handle`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// `out` holds a response with this RCODE.
    Answered(u16),
    /// `out` holds a FORMERR.
    FormErr,
    /// Nothing to send (too short, or a response).
    Dropped,
}

/// Parses a packet, answers it and encodes the response into `out`.
pub fn handle(zones: &Zones, packet: &[u8], transport: Transport, out: &mut Vec<u8>) -> Handled {
    match Query::parse(packet) {
        Ok(q) => {
            let r = answer(zones, &q);
            encode(packet, &q, &r, transport, out);
            Handled::Answered(r.rcode)
        }
        Err(ParseError::FormErr) => match encode_formerr(packet, out) {
            Some(()) => Handled::FormErr,
            None => Handled::Dropped,
        },
        Err(ParseError::Drop) => Handled::Dropped,
    }
}
