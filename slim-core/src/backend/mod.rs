//! How slim runs on this machine: one typed configuration of its CPU paths, overridable for a scope.

mod config;

pub use config::Config;
