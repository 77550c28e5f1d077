//! depeer-mrt: not built yet.
