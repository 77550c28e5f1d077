//! depeer-sim: not built yet.
