//! Ingestion pipelines: sources -> parse -> enrich -> store.

pub mod mail;
