//! Mail parsing for depeer: from a (decompressed) byte stream to the
//! observations of each message.
//!
//! The layers, each usable on its own and each fuzzed:
//!
//! 1. **framing** ([`MessageReader`], [`sniff_framing`]): mbox (mboxo,
//!    mboxrd, CRLF) or single message into owned [`RawMessage`]s, with a
//!    per-message cap;
//! 2. **Received chain** ([`parse_received`], [`relay_chain`],
//!    [`TrustConfig`]): the relay that handed the message to the trap, by
//!    SpamAssassin's rules;
//! 3. **extraction** ([`extract`], [`Extractor`]): MIME via mail-parser,
//!    addresses, subject, dates, URLs and hosts ([`UrlSet`]), the content
//!    fingerprint ([`Fingerprinter`]) and the SHA-256 of the raw bytes.
//!
//! Nothing here panics on input; every unusable message is a [`MailError`]
//! with a stable [`MailError::reason`].
//!
//! ```
//! use depeer_core::{SourceRef, Timestamp};
//! use depeer_mail::{ExtractContext, MessageReader, TrustConfig, extract};
//!
//! let mbox = b"From spammer@example.net Tue Nov 11 21:30:00 2008\n\
//! Received: from bot (dsl.example.net [198.51.100.7]) by mx.trap.example with SMTP; Tue, 11 Nov 2008 21:30:02 +0000\n\
//! Subject: hello\n\nvisit http://pills.example/\n";
//! let trust = TrustConfig::default();
//! for raw in MessageReader::sniffed(&mbox[..]).unwrap() {
//!     let raw = raw.unwrap();
//!     let mut ctx = ExtractContext::new(&trust, SourceRef::new("trap.mbox", raw.offset, raw.index), Timestamp::from_secs(1_300_000_000));
//!     ctx.mbox_from_time = raw.mbox_from_time;
//!     let e = extract(&raw.bytes, &ctx).unwrap();
//!     assert_eq!(e.message.relay_ip, Some("198.51.100.7".parse().unwrap()));
//!     assert_eq!(e.urls[0].host, "pills.example");
//! }
//! ```

mod date;
mod error;
mod extract;
mod fingerprint;
mod framing;
mod headers;
mod quoted_printable;
mod received;
mod relay;
#[cfg(test)]
mod test_support;
mod trust;
mod url;

pub use error::MailError;
pub use extract::{ExtractContext, Extracted, Extractor, Limits, extract};
pub use fingerprint::{Fingerprinter, MAX_WORDS, SLOTS, similarity};
pub use framing::{
    DEFAULT_MAX_MESSAGE_SIZE, Framing, MessageReader, RawMessage, SPARE_BUFFERS, SPARE_BYTES,
    SPARE_CAPACITY, parse_from_line, sniff_framing,
};
pub use received::{MAX_RECEIVED_LEN, ReceivedHop, parse_ip_literal, parse_received};
pub use relay::{MAX_RECEIVED_FIELDS, RelayInfo, relay_chain};
pub use trust::{TrustConfig, is_private_ip};
pub use url::{
    FoundUrl, MAX_URL_LEN, MAX_URLS, UrlSet, normalize_host, parse_numeric_ipv4, registrable_domain,
};
