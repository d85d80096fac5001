//! Unit tests: argument parsing and output formatting.
