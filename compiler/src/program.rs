//! Loading a program: the root file and its imports. (Being written.)
