//! Benchmarks of `webflow-api` (`cargo bench -p webflow-api-benches`); the code is in
//! `benches/`. Figures, commands and the machine are in the README's Performance section.
