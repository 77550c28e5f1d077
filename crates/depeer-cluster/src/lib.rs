//! depeer beyond one machine (issue 24): ingest through NATS JetStream
//! (`depeer nats setup`, producers with `--to nats://`, `depeer worker`) and
//! the same SQL on Apache DataFusion Ballista (`depeer ballista scheduler`,
//! `depeer ballista executor`, `depeer sql --ballista`).
//!
//! Not built yet: this crate holds the dependencies so that their build is
//! shared; the modules come with their features.

pub mod nats;

use ballista as _;
use ballista_core as _;
use ballista_executor as _;
use ballista_scheduler as _;
