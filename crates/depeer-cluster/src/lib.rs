//! depeer beyond one machine (issue 24): ingest through NATS JetStream
//! (`depeer nats setup`, producers with `--to nats://`, `depeer worker`) and
//! the same SQL on Apache DataFusion Ballista (`depeer ballista scheduler`,
//! `depeer ballista executor`, `depeer sql --ballista`).
//!
//! [`nats`]: `depeer nats setup`, producers, `depeer worker` (docs/SCALING.md;
//! `depeer trap --to nats://` is not built yet). [`ballista`]: the
//! scheduler and executor nodes and the client of `depeer sql --ballista`.

pub mod ballista;
pub mod nats;

use ballista_core as _;
use ballista_executor as _;
use ballista_scheduler as _;
