//! depeer-store: not built yet.
