//! `depeer trap --to nats://`: the trap's messages published to the
//! stream instead of committed locally ([`NatsForward`], a
//! [`depeer_trap::Forward`]), and stored by the workers as the local trap
//! stores them (`depeer_ingest::commit_live`).
//!
//! Each accepted message is one object on `depeer.obj.smtp`: its raw bytes
//! as the trap would store them (its own `Received:` line first), with
//! `Nats-Msg-Id` = their SHA-256 (the stored object's identity) and the
//! header `Depeer-Smtp` ([`SmtpHeader`], JSON, `"v": 1`): the envelope
//! (connecting address, HELO, MAIL FROM, RCPT TOs, TLS, anomalies), the
//! arrival time and where and as which message of the trap's run it was
//! received. A message over the server's maximum payload travels in parts
//! as a large mail message does. The trap's 250 waits for the stream's
//! acknowledgement (a duplicate the stream dropped is acknowledged too:
//! it is already there); a failed or timed-out publish is a 451, so the
//! client sends it again.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use bytes::Bytes;
use depeer_core::{SmtpEnvelope, Timestamp};
use depeer_ingest::{LiveAck, LiveDone, LiveMessage};
use serde::{Deserialize, Serialize};

use crate::nats::parts::{part_limit, split};
use crate::nats::wire::{self, JobKind};
use crate::nats::{NatsError, connect, runtime};

/// The `Depeer-Smtp` header of a trap message (version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SmtpHeader {
    /// Format version (1).
    pub(crate) v: u32,
    /// What `source_file` records (`smtp:127.0.0.1:2525`).
    pub(crate) source: String,
    /// The message's number in the trap's run (`source_index`).
    pub(crate) index: u64,
    /// When the trap received it (its `arrival_time`), in microseconds.
    pub(crate) received_at: i64,
    /// The SMTP envelope.
    pub(crate) envelope: SmtpEnvelope,
}

impl SmtpHeader {
    /// The message this header and `raw` describe, and its index.
    pub(crate) fn into_message(self, raw: Vec<u8>) -> Result<(LiveMessage, u64), String> {
        if self.v != 1 {
            return Err(format!("{} version {}", wire::SMTP, self.v));
        }
        Ok((
            LiveMessage {
                raw,
                envelope: self.envelope,
                received_at: Timestamp(self.received_at),
                source: self.source,
            },
            self.index,
        ))
    }
}

/// Publishes the trap's messages to JetStream and answers each once the
/// stream acknowledged it. Owns its own runtime, so it does not depend on
/// the trap's.
pub struct NatsForward {
    rt: tokio::runtime::Runtime,
    js: jetstream::Context,
    limit: usize,
    timeout: Duration,
}

impl std::fmt::Debug for NatsForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsForward")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl NatsForward {
    /// Connects to `url`; every publish (with its acknowledgement) must
    /// end within `timeout`, else the message is answered 451.
    pub fn connect(url: &str, timeout: Duration) -> Result<NatsForward, NatsError> {
        let rt = runtime()?;
        let client = rt.block_on(connect(url))?;
        let limit = part_limit(client.server_info().max_payload);
        let guard = rt.enter();
        let js = jetstream::context::ContextBuilder::new()
            .timeout(timeout)
            .build(client);
        drop(guard);
        Ok(NatsForward {
            rt,
            js,
            limit,
            timeout,
        })
    }
}

impl depeer_trap::Forward for NatsForward {
    fn submit(&self, msg: LiveMessage, index: u64, done: LiveDone) {
        let (js, limit, timeout) = (self.js.clone(), self.limit, self.timeout);
        self.rt.spawn(async move {
            let ack = match tokio::time::timeout(timeout, publish(&js, limit, msg, index)).await {
                Ok(Ok(ack)) => ack,
                Ok(Err(detail)) => LiveAck::Failed { detail },
                Err(_) => LiveAck::Failed {
                    detail: format!("no acknowledgement from the stream within {timeout:?}"),
                },
            };
            done(ack);
        });
    }
}

/// Publishes one message (in parts when it is large) and waits for the
/// stream's acknowledgement.
async fn publish(
    js: &jetstream::Context,
    limit: usize,
    msg: LiveMessage,
    index: u64,
) -> Result<LiveAck, String> {
    let sha = wire::sha256_hex(&msg.raw);
    let head = SmtpHeader {
        v: 1,
        source: msg.source,
        index,
        received_at: msg.received_at.0,
        envelope: msg.envelope,
    };
    let mut h = HeaderMap::new();
    h.insert(wire::MSG_ID, sha.as_str());
    let json = serde_json::to_string(&head).map_err(|e| e.to_string())?;
    h.insert(wire::SMTP, json.as_str());
    // The header travels in the same message as the payload.
    let limit = limit.saturating_sub(json.len()).max(1024);
    let payload = if msg.raw.len() > limit {
        let mut seqs = Vec::new();
        for (i, r) in split(&msg.raw, limit, JobKind::Smtp)
            .into_iter()
            .enumerate()
        {
            let mut ph = HeaderMap::new();
            ph.insert(wire::MSG_ID, wire::part_id(&sha, 0, i).as_str());
            let part = Bytes::copy_from_slice(msg.raw.get(r).unwrap_or_default());
            let ack = js
                .publish_with_headers(JobKind::Smtp.part_subject(), ph, part)
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())?;
            seqs.push(ack.sequence.to_string());
        }
        h.insert(wire::PARTS, seqs.join(",").as_str());
        h.insert(wire::SHA256, sha.as_str());
        Bytes::new()
    } else {
        Bytes::from(msg.raw)
    };
    let ack = js
        .publish_with_headers(JobKind::Smtp.subject(), h, payload)
        .await
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    Ok(if ack.duplicate {
        LiveAck::Duplicate { sha256: sha }
    } else {
        LiveAck::Stored { sha256: sha }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_one_line_and_versioned() {
        let h = SmtpHeader {
            v: 1,
            source: "smtp:127.0.0.1:2525".into(),
            index: 3,
            received_at: 1_700_000_000_123_456,
            envelope: SmtpEnvelope {
                peer_ip: "192.0.2.7".parse().unwrap(),
                helo: Some("bot\r\nx".into()),
                mail_from: Some(String::new()),
                rcpt_to: vec!["a@trap.example".into(), "b@trap.example".into()],
                tls: None,
                anomalies: vec!["bare-lf".into()],
            },
        };
        let s = serde_json::to_string(&h).unwrap();
        assert!(!s.contains('\n') && !s.contains('\r'), "{s}");
        let back: SmtpHeader = serde_json::from_str(&s).unwrap();
        assert_eq!(back, h);
        let (m, i) = back.into_message(b"x".to_vec()).unwrap();
        assert_eq!(
            (i, m.received_at.0, m.source.as_str()),
            (3, h.received_at, "smtp:127.0.0.1:2525")
        );
        assert_eq!(m.envelope, h.envelope);
        let v2 = SmtpHeader { v: 2, ..h };
        assert!(v2.into_message(Vec::new()).is_err());
    }
}
