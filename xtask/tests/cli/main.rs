//! The xtask binary as users and CI run it: `cargo xtask codegen` and `cargo xtask drift`,
//! end to end (one test binary for both, to link once).

mod codegen;
mod drift;
