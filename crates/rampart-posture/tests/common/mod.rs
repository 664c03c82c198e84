//! Helpers shared by the integration tests. Each test file compiles its own
//! copy and uses only part of it.

#![allow(dead_code)]

pub mod cases;
pub mod regolibrary;
