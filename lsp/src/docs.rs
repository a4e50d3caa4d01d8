//! What the language's words mean (LANGUAGE.md §4, §8.2), shown by hover and completion.
//!
//! The keyword lists here are also what completion offers; `tests/keywords.rs` in the root
//! crate checks them against the grammar, so a keyword added to the language and forgotten
//! here fails a test.

/// The directives of a task or an `impl` block (§4.2), with what they mean.
pub const DIRECTIVES: &[(&str, &str)] = &[
    ("constraint", "`constraint { key: value, … }` — what a resource must offer to run the task (§8.2). Default: `cores: 1`."),
    ("timeout", "`timeout DURATION` — cancel the attempt after that long; counts as a failure."),
    ("priority", "`priority` — schedule before ready tasks without it."),
    ("on_failure", "`on_failure POLICY` — `retry(N)`, `cancel_successors`, `fail` or `ignore` (§6.2). Default: `retry(1)`."),
    ("distributed", "`distributed` — successive calls go round-robin over resources."),
    ("replicated", "`replicated` — each call runs once on every resource."),
    ("workdir", "`workdir \"path\"` — the process's working directory (default: the run's directory)."),
    ("env", "`env { NAME: expr, … }` — extra environment variables for the process."),
    ("fail_on_exit", "`fail_on_exit BOOL` — for `binary`/`mpi` tasks returning `int`: a non-zero exit status fails the task."),
    ("raises_on_exit", "`raises_on_exit [N, …]` — these exit statuses raise a workflow exception (§6.3)."),
    ("container", "`container \"image\"` — run the body in that image with the configured engine."),
    ("multinode", "`multinode N` — reserve the task's constraint on each of N resources; the process gets `WEFT_NUM_NODES`, `WEFT_HOSTNAMES` and `WEFT_NUM_THREADS`."),
];

/// The bodies of a task (§4.4).
pub const BODIES: &[(&str, &str)] = &[
    ("binary", "`binary \"PROGRAM\" [args [EXPR, …]]` — runs PROGRAM; without `args` the command line is the parameters in order (streams excepted). Each value is one argument, never split, never given to a shell."),
    ("mpi", "`mpi \"PROGRAM\" { runner, processes, nodes, flags } [args […]]` — like `binary`, launched as `RUNNER -n N [FLAGS…] PROGRAM ARGS…`."),
    ("ompss", "`ompss \"PROGRAM\" [args […]]` — like `binary`."),
    ("shell", "`shell \"TEMPLATE\"` — a Handlebars template run by `bash -euo pipefail -c`: `{{name}}` inserts a parameter shell-quoted, `{{{name}}}` verbatim. Helpers: `basename`, `dirname`, `stem`, `ext`, `join LIST SEP`."),
    ("script", "`script \"INTERPRETER\" \"\"\"CODE\"\"\"` — CODE is written to a file and run by INTERPRETER; `WEFT_ARGS` names a JSON file of the arguments, `WEFT_RETURN` where to write the return value."),
    ("workflow", "`workflow \"FILE.wf\" [args { name: expr, … }]` — runs another weft workflow as one task."),
];

/// Parameter directions (§4.1).
pub const DIRECTIONS: &[(&str, &str)] = &[
    ("out", "`out` — written, not read (PyCOMPSs OUT). The task gets a fresh path to write."),
    ("inout", "`inout` — read and written (PyCOMPSs INOUT): the task's path starts as a copy of the version it reads."),
    ("concurrent", "`concurrent` — read and written; tasks sharing it may run at the same time (PyCOMPSs CONCURRENT)."),
    ("commutative", "`commutative` — read and written; tasks sharing it may run in any order, one at a time (PyCOMPSs COMMUTATIVE)."),
];

/// Stream modifiers (`as stdin`, …) and failure policies.
pub const OTHER_WORDS: &[(&str, &str)] = &[
    ("stdin", "`as stdin` — the file is the process's standard input (not on the command line); needs a read direction."),
    ("stdout", "`as stdout` — the process's standard output is written to the file; needs a write direction."),
    ("stderr", "`as stderr` — the process's standard error is written to the file; needs a write direction."),
    ("retry", "`retry(N)` — run again, up to N more times, preferring another resource; then behave as `fail`."),
    ("cancel_successors", "`cancel_successors` — cancel the task and every task depending on it; the rest goes on; the run ends with status 1."),
    ("fail", "`fail` — stop submitting, cancel running tasks, end the run with status 1."),
    ("ignore", "`ignore` — log the failure; successors run; missing `out` files are created empty; the return value is `null`."),
    ("impl", "`impl NAME { … }` — one implementation of the task; a call runs the first one whose constraints the chosen resource satisfies."),
    ("args", "`args [EXPR, …]` — the command line exactly as listed (a collection gives one argument per element)."),
];

/// Keywords that start a statement in a workflow or fn body (§5).
pub const STATEMENT_KEYWORDS: &[&str] = &[
    "let", "if", "else", "for", "while", "return", "group", "barrier", "try", "raise",
];

/// Keywords that start an item (§3).
pub const ITEM_KEYWORDS: &[&str] = &["import", "task", "fn", "workflow"];

/// The types of parameters (§4.1).
pub const TYPES: &[&str] = &["int", "float", "bool", "str", "json", "file", "dir"];

/// What each constraint key means (§8.2): (key, type, meaning).
pub const CONSTRAINTS: &[(&str, &str, &str)] = &[
    ("cores", "int", "CPU cores reserved for the task"),
    ("memory", "size", "memory reserved (`256MiB`, `8GiB`)"),
    ("gpus", "int", "GPUs reserved"),
    ("disk", "size", "scratch space"),
    ("arch", "str", "the resource's architecture, e.g. `x86_64`"),
    ("os", "str", "the resource's operating system, e.g. `linux`"),
    (
        "labels",
        "[str]",
        "the resource must carry all of these labels (software, queues, …)",
    ),
    (
        "walltime",
        "duration",
        "expected run time (passed to Slurm)",
    ),
];

/// What each `mpi` option means (§4.4).
pub const MPI_OPTIONS: &[(&str, &str)] = &[
    (
        "runner",
        "the launcher, looked up like a `binary` program (`mpirun`)",
    ),
    (
        "processes",
        "`-n N`: the number of processes (reserves nothing by itself)",
    ),
    (
        "nodes",
        "reserve the task's constraint on that many resources",
    ),
    ("flags", "extra flags for the runner, split into arguments"),
];

/// The meaning of a keyword, if it has one to show.
pub fn keyword(word: &str) -> Option<&'static str> {
    DIRECTIVES
        .iter()
        .chain(BODIES)
        .chain(DIRECTIONS)
        .chain(OTHER_WORDS)
        .find(|(w, _)| *w == word)
        .map(|(_, doc)| *doc)
}

/// The type and meaning of a constraint key.
pub fn constraint(key: &str) -> Option<(&'static str, &'static str)> {
    CONSTRAINTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, ty, doc)| (*ty, *doc))
}

pub fn mpi_option(key: &str) -> Option<&'static str> {
    MPI_OPTIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, doc)| *doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_compiler::analysis::{CONSTRAINT_KEYS, MPI_OPTION_KEYS};

    /// The analysis accepts exactly the documented keys, in the same order.
    #[test]
    fn every_key_the_analysis_accepts_is_documented_and_no_other() {
        let documented: Vec<&str> = CONSTRAINTS.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(documented, CONSTRAINT_KEYS);
        let documented: Vec<&str> = MPI_OPTIONS.iter().map(|(k, _)| *k).collect();
        assert_eq!(documented, MPI_OPTION_KEYS);
    }

    #[test]
    fn directive_docs_match_the_syntax_tree_keywords() {
        use weft_compiler::ast::{DirectiveKind, Expr, ExprKind, FailurePolicy};
        let e = || Expr {
            kind: ExprKind::Null,
            span: Default::default(),
        };
        let kinds = [
            DirectiveKind::Constraint(vec![]),
            DirectiveKind::Timeout(e()),
            DirectiveKind::Priority,
            DirectiveKind::OnFailure(FailurePolicy::Fail),
            DirectiveKind::Distributed,
            DirectiveKind::Replicated,
            DirectiveKind::Workdir(e()),
            DirectiveKind::Env(vec![]),
            DirectiveKind::FailOnExit(e()),
            DirectiveKind::RaisesOnExit(vec![]),
            DirectiveKind::Container(e()),
            DirectiveKind::Multinode(e()),
        ];
        let names: Vec<&str> = kinds.iter().map(DirectiveKind::keyword).collect();
        let documented: Vec<&str> = DIRECTIVES.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, documented);
        assert!(keyword("shell").unwrap().contains("Handlebars"));
        assert!(keyword("nope").is_none());
    }
}
