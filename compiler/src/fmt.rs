//! The canonical formatter. (Being written.)
