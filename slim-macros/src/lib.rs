//! slim-macros
