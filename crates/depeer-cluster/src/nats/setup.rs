//! `depeer nats setup`: the stream and the workers' durable consumer,
//! created or brought to the asked settings (idempotent: running it again
//! changes nothing).
//!
//! The stream is a work queue (a message leaves it when a worker
//! acknowledges it) on file storage, with `discard: new`: when it is full
//! a publish fails and the producer sees it, rather than the oldest
//! unprocessed objects silently going. Its limits (docs/SCALING.md): the
//! age a message may wait (`--max-age`), the bytes it may hold
//! (`--max-bytes`), the replicas (`--replicas`, 3 on a 3-node cluster) and
//! the duplicate window (`--duplicate-window`).

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use serde::Serialize;

use crate::nats::wire;
use crate::nats::{NatsError, connect, runtime};

/// What `depeer nats setup` creates.
#[derive(Debug, Clone)]
pub struct SetupOptions {
    /// The server (`nats://host:port`).
    pub url: String,
    /// The stream's name.
    pub stream: String,
    /// The consumer's name.
    pub consumer: String,
    /// How long an object may wait in the stream.
    pub max_age: Duration,
    /// The most bytes the stream holds (new publishes fail beyond).
    pub max_bytes: i64,
    /// Copies of every message (1 on one server, 3 on a 3-node cluster).
    pub replicas: usize,
    /// How long a `Nats-Msg-Id` is remembered to drop re-sends.
    pub duplicate_window: Duration,
    /// How long a delivered object may stay unacknowledged before it is
    /// delivered again.
    pub ack_wait: Duration,
    /// Deliveries before an object counts as poison.
    pub max_deliver: i64,
    /// Objects delivered and not yet acknowledged, over all workers.
    pub max_ack_pending: i64,
}

impl SetupOptions {
    /// The defaults for `url` (docs/SCALING.md says why).
    pub fn new(url: &str) -> Self {
        SetupOptions {
            url: url.to_string(),
            stream: super::STREAM.into(),
            consumer: super::CONSUMER.into(),
            max_age: Duration::from_secs(7 * 86_400),
            max_bytes: 10 << 30,
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            ack_wait: Duration::from_secs(60),
            max_deliver: 20,
            max_ack_pending: 50_000,
        }
    }
}

/// What setup found and left.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SetupSummary {
    /// The stream's name.
    pub stream: String,
    /// Whether it was created now (else it existed).
    pub stream_created: bool,
    /// Whether its limits were changed now.
    pub stream_updated: bool,
    /// Its subjects.
    pub subjects: Vec<String>,
    /// Messages in it now.
    pub messages: u64,
    /// The consumer's name.
    pub consumer: String,
    /// Objects waiting for a worker.
    pub pending: u64,
    /// The server's version.
    pub server_version: String,
    /// The server's maximum payload (larger objects travel in parts).
    pub max_payload: usize,
}

/// The stream configuration setup asks for.
pub(crate) fn stream_config(o: &SetupOptions) -> stream::Config {
    stream::Config {
        name: o.stream.clone(),
        description: Some("depeer: raw objects for the ingest workers".into()),
        subjects: vec![wire::ALL.into()],
        retention: stream::RetentionPolicy::WorkQueue,
        discard: stream::DiscardPolicy::New,
        storage: stream::StorageType::File,
        max_age: o.max_age,
        max_bytes: o.max_bytes,
        max_messages: -1,
        max_messages_per_subject: -1,
        max_consumers: -1,
        num_replicas: o.replicas.max(1),
        duplicate_window: o.duplicate_window,
        ..stream::Config::default()
    }
}

/// The consumer configuration setup asks for.
pub(crate) fn consumer_config(o: &SetupOptions) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(o.consumer.clone()),
        description: Some("depeer workers".into()),
        deliver_policy: consumer::DeliverPolicy::All,
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: o.ack_wait,
        max_deliver: o.max_deliver,
        filter_subject: format!("{}.>", wire::OBJ),
        max_ack_pending: o.max_ack_pending,
        num_replicas: 0,
        ..consumer::pull::Config::default()
    }
}

/// Creates the stream and the consumer, or brings them to `o`'s settings.
pub fn setup(o: &SetupOptions) -> Result<SetupSummary, NatsError> {
    if o.max_deliver < 2 {
        return Err(NatsError::Usage(
            "--max-deliver must be at least 2 (one delivery, then poison)".into(),
        ));
    }
    runtime()?.block_on(async {
        let client = connect(&o.url).await?;
        let info = client.server_info();
        let js = jetstream::new(client);
        let want = stream_config(o);
        let (mut stream, created) = match js.get_stream(&o.stream).await {
            Ok(s) => (s, false),
            Err(_) => {
                let s = js.create_stream(want.clone()).await.map_err(|e| {
                    NatsError::js(format!("creating stream {}", o.stream))(with_hint(
                        e.to_string(),
                        o.max_bytes,
                    ))
                })?;
                (s, true)
            }
        };
        let have = stream
            .info()
            .await
            .map_err(|e| NatsError::js("stream info")(e.to_string()))?
            .config
            .clone();
        if have.retention != want.retention {
            return Err(NatsError::StreamMismatch {
                stream: o.stream.clone(),
                setting: "retention",
                found: format!("{:?}", have.retention),
                wanted: format!("{:?}", want.retention),
            });
        }
        let differs = have.subjects != want.subjects
            || have.max_age != want.max_age
            || have.max_bytes != want.max_bytes
            || have.num_replicas != want.num_replicas
            || have.duplicate_window != want.duplicate_window
            || have.discard != want.discard;
        let updated = !created && differs;
        if updated {
            js.update_stream(want).await.map_err(|e| {
                NatsError::js(format!("updating stream {}", o.stream))(with_hint(
                    e.to_string(),
                    o.max_bytes,
                ))
            })?;
        }
        let mut cons = js
            .create_consumer_on_stream(consumer_config(o), &o.stream)
            .await
            .map_err(|e| {
                NatsError::js(format!("creating consumer {}", o.consumer))(e.to_string())
            })?;
        let cinfo = cons
            .info()
            .await
            .map_err(|e| NatsError::js("consumer info")(e.to_string()))?;
        let pending = cinfo.num_pending;
        let sinfo = stream
            .info()
            .await
            .map_err(|e| NatsError::js("stream info")(e.to_string()))?;
        Ok(SetupSummary {
            stream: o.stream.clone(),
            stream_created: created,
            stream_updated: updated,
            subjects: sinfo.config.subjects.clone(),
            messages: sinfo.state.messages,
            consumer: o.consumer.clone(),
            pending,
            server_version: info.version,
            max_payload: info.max_payload,
        })
    })
}

/// Parses `90s`, `10m`, `24h`, `7d` or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i..).unwrap_or("")),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with s, m, h or d (e.g. 90s, 7d)"))?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (ms, s, m, h or d)")),
    };
    Ok(Duration::from_secs(secs))
}

/// Adds what to do to a JetStream error: a file-storage stream reserves
/// its `--max-bytes` up front, so a server with less JetStream storage
/// (its `max_file_store`, by default a share of the free disk) refuses it
/// with "insufficient resources", which says nothing about the flag.
fn with_hint(detail: String, max_bytes: i64) -> String {
    if detail
        .to_ascii_lowercase()
        .contains("insufficient resources")
    {
        format!(
            "{detail} (the stream reserves --max-bytes {max_bytes} of the server's JetStream \
             storage: pass a smaller --max-bytes, or give nats-server more: jetstream \
             {{ max_file_store: ... }} and free disk)"
        )
    } else {
        detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("12"), Ok(Duration::from_secs(12)));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("3w").is_err());
    }

    #[test]
    fn the_consumer_takes_objects_not_parts() {
        let o = SetupOptions::new("nats://127.0.0.1:4222");
        let c = consumer_config(&o);
        assert_eq!(c.filter_subject, "depeer.obj.>");
        assert_eq!(c.ack_policy, consumer::AckPolicy::Explicit);
        let s = stream_config(&o);
        assert_eq!(s.retention, stream::RetentionPolicy::WorkQueue);
        assert_eq!(s.discard, stream::DiscardPolicy::New);
    }

    #[test]
    fn insufficient_resources_says_what_to_do() {
        let d = with_hint("insufficient resources (10023)".into(), 1 << 30);
        assert!(
            d.contains("--max-bytes 1073741824") && d.contains("max_file_store"),
            "{d}"
        );
        assert_eq!(
            with_hint("stream name in use".into(), 5),
            "stream name in use"
        );
    }
}
