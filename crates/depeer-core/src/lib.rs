//! Shared types of depeer.
//!
//! Every other crate speaks in these types: where a record came from
//! ([`SourceRef`]), what could not be used ([`Quarantine`]), time
//! ([`Timestamp`]), networks ([`Asn`]) and the observation rows that the store
//! writes as Parquet ([`MessageObs`], [`UrlObs`], [`RouteObs`], [`AsLinkObs`],
//! [`RoutingEventObs`], [`AsNameObs`]). This crate has almost no
//! dependencies so that a parser crate can use it without pulling anything
//! heavy.

mod feed;
mod obs;
mod smtp;
mod source;
#[cfg(feature = "test-support")]
pub mod test_support;
mod time;

pub use feed::FeedEntryObs;
pub use obs::{
    ArrivalSource, AsLinkObs, AsNameObs, MessageObs, Relationship, RibStateObs, RouteObs,
    RoutingEventKind, RoutingEventObs, UrlObs,
};
pub use smtp::SmtpEnvelope;
pub use source::{Quarantine, SourceRef};
pub use time::{Timestamp, TimestampError, civil_from_days, days_from_civil};

/// An autonomous system number (32-bit, RFC 6793).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Asn(pub u32);

impl std::fmt::Display for Asn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

impl std::str::FromStr for Asn {
    type Err = std::num::ParseIntError;
    /// Accepts `26780`, `AS26780`, `as26780` and asdot `1.10` (RFC 5396).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .strip_prefix("AS")
            .or_else(|| t.strip_prefix("as"))
            .or_else(|| t.strip_prefix("As"))
            .unwrap_or(t);
        if let Some((hi, lo)) = t.split_once('.') {
            let hi: u16 = hi.parse()?;
            let lo: u16 = lo.parse()?;
            return Ok(Asn((u32::from(hi) << 16) | u32::from(lo)));
        }
        t.parse().map(Asn)
    }
}

/// Re-exported so that every crate names prefixes the same way.
pub use ipnet::IpNet as Prefix;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn_parses_plain_prefixed_and_asdot() {
        assert_eq!("26780".parse::<Asn>().unwrap(), Asn(26780));
        assert_eq!("AS26780".parse::<Asn>().unwrap(), Asn(26780));
        assert_eq!("as6939".parse::<Asn>().unwrap(), Asn(6939));
        assert_eq!("1.10".parse::<Asn>().unwrap(), Asn(65546));
        assert!("AS".parse::<Asn>().is_err());
        assert!("4294967296".parse::<Asn>().is_err());
        assert_eq!(Asn(3549).to_string(), "AS3549");
    }
}
