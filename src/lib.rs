//! slim
