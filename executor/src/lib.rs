//! weft's runtime. (Being written.)
