//! Shared pieces of the benchmarks: input data, the hand-written baselines they are measured
//! against, and the results report. Benchmarks live in `benches/`; results go to `results/`.

pub mod baseline;
pub mod cpu;
pub mod data;
pub mod instance_process;
pub mod report;
