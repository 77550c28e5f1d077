//! depeer-routing: not built yet.
