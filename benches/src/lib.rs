//! Benchmarks live in `benches/`; results are written to `results/`.
