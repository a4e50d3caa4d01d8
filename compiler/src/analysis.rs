//! Static analysis. (Being written.)
