//! depeer-io: not built yet.
