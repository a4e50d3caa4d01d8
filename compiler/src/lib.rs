//! weft's compiler: everything that happens before a task runs, and the evaluator that both
//! the planner and the runtime drive.
//!
//! The pipeline, one module a stage:
//! `parser` (pest pairs → `ast`) → `program` (imports, modules) → `analysis` (names, types,
//! arity, directions, constraints) → `eval` (workflow bodies, over a `Backend`) with `deps`
//! (the dependency analysis of §7) → `plan` (the task graph known before running).

pub mod analysis;
pub mod ast;
pub mod ast_visit;
pub mod builtins;
pub mod calls;
pub mod config;
pub mod deps;
pub mod diagnostic;
pub mod eval;
pub mod fmt;
pub mod parser;
pub mod plan;
pub mod program;
pub mod value;
