//! depeer's ingest pipelines: raw inputs -> parse -> enrich -> commit.
//!
//! One library call per kind of source, each with an options struct in and
//! a summary struct out, so that `depeer ingest`, the SMTP trap and the
//! cluster workers run the same code:
//!
//! * [`ingest_mail`]: spamtrap mail (mbox, Maildir, .eml, trees, stdin) into
//!   `messages`, `message_urls`, the raw-message store and `quarantine`.
//! * [`ingest_mrt`]: BGP RIB dumps and updates replayed into the routing
//!   history (`routes`, `as_links`, `routing_events`, `rib_state`).
//! * [`ingest_ipasn`]: a pyasn IP->AS table as the routes of one moment.
//! * [`ingest_as2org`]: AS names and organisations into `as_names`.
//! * [`ingest_feed`]: threat feeds (C&C, URL, passive DNS, bot and network
//!   lists) into `feed_entries`.
//! * [`read_mail`], [`prepare_mail`], [`commit_mail`]: the mail pipeline
//!   cut at the message, for the cluster's producers and workers
//!   (depeer-cluster): read here, extract and commit elsewhere.
//! * [`LiveMail`]: a long-lived sink for mail received live (the SMTP
//!   trap): each message resolved when its batch is committed and fsynced.
//! * [`attribute`]: botnet attribution of the stored messages into
//!   `attribution` (also run by [`ingest_mail`] for the messages it stores);
//!   [`botnets`]: the botnet table of a window.
//! * [`read`]: the read side of the analyses (series, dependency graph,
//!   volume events and their causes), shared by the commands, the report
//!   and the HTTP API.
//! * [`listings`]: what depeer lists as of a moment (bots, C&C, rogue
//!   space, advertised domains) with its evidence, for `depeer export` and
//!   the data zones of `depeer serve dnsbl`.
//! * [`rank`]: the rogue-network ranking of a window (`depeer rank`,
//!   `depeer explain`), read from the dataset and computed by
//!   `depeer_analysis::rank`.
//! * [`whatif`]: the dataset read for what-if depeering and its backtest.
//! * [`report::gather`]: everything `depeer report` shows, as plain data.
//! * [`evidence`]: the evidence log read back (`depeer log`: checkpoint,
//!   proofs, the whole-store verification) and the dossiers.
//!
//! Inputs that cannot be used are quarantined with their bytes and a reason,
//! and the run goes on; an [`IngestError`] means the run itself could not
//! go on (no input at all, the store failed). Progress is reported through
//! the [`Progress`] trait, so the library draws nothing itself.
//!
//! ```
//! use depeer_ingest::{MailOptions, NoProgress, ingest_mail};
//! let dir = tempfile::tempdir().unwrap();
//! let eml = dir.path().join("one.eml");
//! std::fs::write(&eml, "From: a@b.example\r\nSubject: hi\r\n\r\nhttp://x.example/\r\n").unwrap();
//! let opts = MailOptions { data: Some(dir.path().join("data")), ..MailOptions::default() };
//! let summary = ingest_mail(&[eml], &opts, &NoProgress).unwrap();
//! assert_eq!((summary.read, summary.stored, summary.urls), (1, 1, 1));
//! ```

mod as2org;
mod attribute;
mod error;
pub mod evidence;
mod feed;
mod input;
mod ipasn;
mod listings;
mod live;
pub mod lookup;
mod mail;
mod mrt;
mod progress;
mod rank;
pub mod read;
pub mod report;
pub mod whatif;

pub use as2org::{As2orgOptions, As2orgSummary, ingest_as2org};
pub use attribute::{
    AttributeMode, AttributeOptions, AttributeSummary, BotnetReport, BotnetRow, BotnetsOptions,
    CcRow, Routed, RoutingAt, attribute, attribute_dir, attribute_features, attribute_features_on,
    bot_list, botnets,
};
pub use error::IngestError;
pub use feed::{FeedIngestOptions, FeedSummary, ingest_feed};
pub use ipasn::{IpasnOptions, IpasnQuarantine, IpasnSummary, ingest_ipasn};
pub use listings::{DataZoneFile, ListingOptions, RogueAs, listings, write_data_zones};
pub use live::{
    DEFAULT_BATCH_WAIT, LiveAck, LiveDone, LiveMail, LiveMessage, LiveOptions, LiveSender,
    LiveSummary, commit_live,
};
pub use mail::{
    MailItem, MailMeta, MailObject, MailOptions, MailReadSummary, MailSummary, PreparedMail,
    commit_mail, ingest_mail, prepare_mail, read_mail,
};
pub use mrt::{MrtOptions, MrtSummary, collector_name, dump_mrt, ingest_mrt};
pub use progress::{NoProgress, Progress};
pub use rank::{
    RankListing, RankOptions, RankReport, explain_json, rank, rank_json, rank_row_json,
    ranked_rogue_ases, read_rank_input,
};
