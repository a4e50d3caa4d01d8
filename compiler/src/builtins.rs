//! The builtins of LANGUAGE.md §5: their names, how many arguments they take, and a one-line
//! description (shown by hover and in "did you mean" help).
//!
//! This table is the single source of truth for which names are builtins; the analysis checks
//! calls against `min_args`/`max_args`, and the evaluator dispatches on `name`.

#[derive(Debug, PartialEq, Eq)]
pub struct Builtin {
    pub name: &'static str,
    pub min_args: usize,
    /// `None`: any number of arguments from `min_args` on.
    pub max_args: Option<usize>,
    pub doc: &'static str,
    /// How the builtin is written in help texts, e.g. `range(a, b[, step])`.
    pub signature: &'static str,
    /// Whether it only computes a value from its arguments: no waiting on the run's files,
    /// no output, no change to the run. Only these may appear in a task's directives and body.
    pub pure: bool,
}

const fn builtin(
    name: &'static str,
    min_args: usize,
    max_args: Option<usize>,
    signature: &'static str,
    pure: bool,
    doc: &'static str,
) -> Builtin {
    Builtin {
        name,
        min_args,
        max_args,
        doc,
        signature,
        pure,
    }
}

#[rustfmt::skip]
pub const BUILTINS: &[Builtin] = &[
    builtin("len", 1, Some(1), "len(x)", true,
        "The number of elements of a list, keys of an object, or characters of a string."),
    builtin("range", 1, Some(3), "range(n) / range(a, b[, step])", true,
        "The list of ints from 0 (or a) up to, not including, n (or b), by step, as in Python."),
    builtin("enumerate", 1, Some(1), "enumerate(xs)", true,
        "The list of (index, element) pairs of a list: `for (i, x) in enumerate(xs)`."),
    builtin("str", 1, Some(1), "str(x)", true,
        "The value as a string, written the way `print` writes it."),
    builtin("int", 1, Some(1), "int(x)", true,
        "The value as an int: parses a string, truncates a float toward zero."),
    builtin("float", 1, Some(1), "float(x)", true,
        "The value as a float: parses a string, converts an int."),
    builtin("div", 2, Some(2), "div(a, b)", true,
        "Integer division rounding down, as Python's `a // b`."),
    builtin("min", 1, None, "min(xs) / min(a, b, …)", true,
        "The smallest element of a list, or the smallest argument."),
    builtin("max", 1, None, "max(xs) / max(a, b, …)", true,
        "The largest element of a list, or the largest argument."),
    builtin("sum", 1, Some(2), "sum(xs[, start])", true,
        "The sum of the elements of a list (plus start)."),
    builtin("keys", 1, Some(1), "keys(obj)", true,
        "The keys of a json object, in insertion order."),
    builtin("values", 1, Some(1), "values(obj)", true,
        "The values of a json object, in insertion order."),
    builtin("sorted", 1, Some(1), "sorted(xs)", true,
        "A sorted copy of a list."),
    builtin("glob", 1, Some(1), "glob(pattern)", false,
        "The sorted list of paths matching a pattern, relative paths as written; waits for \
         earlier tasks writing matching paths."),
    builtin("path", 1, None, "path(a, b, …)", true,
        "Joins path components with `/`."),
    builtin("basename", 1, Some(1), "basename(p)", true,
        "The last component of a path."),
    builtin("dirname", 1, Some(1), "dirname(p)", true,
        "All but the last component of a path."),
    builtin("stem", 1, Some(1), "stem(p)", true,
        "The last component of a path without its extension (`a.tar.gz` → `a.tar`)."),
    builtin("ext", 1, Some(1), "ext(p)", true,
        "The extension of a path without the dot (`gz`), or \"\"."),
    builtin("env", 1, Some(2), "env(name[, default])", true,
        "An environment variable, or the default (else null) when it is not set."),
    builtin("print", 0, None, "print(x, …)", false,
        "Writes its arguments, separated by spaces, as one line of standard output, in \
         program order; waits for futures among them."),
    builtin("wait", 1, Some(1), "wait(x)", false,
        "Waits for a future (recursively inside lists and objects) and returns its value."),
    builtin("wait_file", 1, Some(1), "wait_file(p)", false,
        "Waits for the last version of a file."),
    builtin("wait_dir", 1, Some(1), "wait_dir(p)", false,
        "Waits for the last version of a directory."),
    builtin("read", 1, Some(1), "read(p) -> str", false,
        "Waits for the last version of a file, then returns its text."),
    builtin("read_json", 1, Some(1), "read_json(p) -> json", false,
        "Waits for the last version of a file, then parses it as JSON."),
    builtin("write", 2, Some(2), "write(p, s)", false,
        "Writes a string to a file from the workflow body (a new version), creating parent \
         directories."),
    builtin("write_json", 2, Some(2), "write_json(p, v)", false,
        "Writes a value as JSON to a file from the workflow body (a new version), creating \
         parent directories."),
    builtin("exists", 1, Some(1), "exists(p) -> bool", false,
        "True if the file exists or a call before this point will write it; false once \
         deleted; never waits."),
    builtin("delete", 1, Some(1), "delete(p)", false,
        "Forgets the file and removes it once no earlier task needs it."),
];

/// The builtin of that name.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

impl Builtin {
    /// Whether `count` arguments are accepted.
    pub fn accepts(&self, count: usize) -> bool {
        count >= self.min_args && self.max_args.is_none_or(|max| count <= max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_of_the_reference_is_in_the_table_once() {
        let names = "len range enumerate str int float div min max sum keys values sorted glob \
                     path basename dirname stem ext env print wait wait_file wait_dir read \
                     read_json write write_json exists delete";
        for name in names.split_whitespace() {
            assert_eq!(
                BUILTINS.iter().filter(|b| b.name == name).count(),
                1,
                "{name} must appear exactly once"
            );
        }
        assert_eq!(BUILTINS.len(), names.split_whitespace().count());
    }

    #[test]
    fn arity_bounds() {
        let range = lookup("range").unwrap();
        assert!(!range.accepts(0));
        assert!(range.accepts(1) && range.accepts(3));
        assert!(!range.accepts(4));
        assert!(lookup("print").unwrap().accepts(0));
        assert!(lookup("print").unwrap().accepts(7));
        assert!(lookup("nope").is_none());
    }
}
