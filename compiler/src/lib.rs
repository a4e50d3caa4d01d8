//! weft's compiler: everything that happens before a task runs, and the evaluator that both
//! the planner and the runtime drive.
//!
//! The pipeline, one module a stage:
//! `parser` (pest pairs → `ast`) → `program` (imports, modules) → `analysis` (names, types,
//! arity, directions, constraints) → `eval` (workflow bodies, over a `Backend`) with `deps`
//! (the dependency analysis of §7) → `plan` (the task graph known before running).

pub mod ast;
pub mod ast_visit;
pub mod builtins;
pub mod diagnostic;
pub mod fmt;
pub mod parser;
pub mod program;
pub mod analysis;
pub mod value;
pub mod config;
pub mod calls;
pub mod deps;
pub mod eval;
pub mod plan;
