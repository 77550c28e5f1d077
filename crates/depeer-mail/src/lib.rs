//! depeer-mail: not built yet.
