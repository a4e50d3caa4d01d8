//! weft's runtime. (Being written.)
pub mod template;
pub mod resources;
