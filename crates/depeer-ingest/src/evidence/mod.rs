//! The evidence side of the dataset: the log read back and verified
//! ([`log_prove`], [`verify_log`], …) and dossiers ([`write_dossier`];
//! their verifier is `depeer_evidence::verify_dossier`).

mod dossier;
mod html;
mod log;
mod sources;
mod subject;

pub use dossier::{DossierOptions, DossierSummary, Subject, write_dossier};
pub use log::{
    ConsistencyProof, LogReport, LogView, ObjectProof, log_checkpoint, log_consistency, log_prove,
    log_vkey, verify_log,
};
