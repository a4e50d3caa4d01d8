//! weft's runtime. (Being written.)
pub mod template;
