//! The planner: runs a workflow body without running any task, to build the task graph that
//! can be known before running (`weft graph`, and the checks of `weft check` and `weft run`
//! that need calls, such as `weft::unsatisfiable`).
//!
//! A task call becomes a node; its edges come from `deps`, as at run time. Where the body
//! needs a value only a run can give (a task's result, a file a task writes), the planner
//! records a sync point and stops: the graph so far is still the graph of the run's start.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::ast::Direction;
use crate::calls::{for_each_path, path_future, result_value, written_json_params};
use crate::deps::{DatumId, TaskId, Tracker};
use crate::diagnostic::Diagnostic;
use crate::eval::{Backend, CallResult, Evaluator, Interrupt, Site, Stop, TaskCall};
use crate::program::{ModuleId, Program};
use crate::value::{FutureId, Value};

#[derive(Clone, Debug)]
pub struct PlanNode {
    pub id: TaskId,
    pub task: String,
    pub module: ModuleId,
    /// The task's doc comment.
    pub doc: Option<Arc<str>>,
    pub line: usize,
    /// The innermost group the call is in.
    pub group: Option<String>,
    /// Every enclosing group, outermost first.
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlanEdge {
    pub from: TaskId,
    pub to: TaskId,
    /// What flows along the edge: a path and its version, or `result` for a future.
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct SyncPoint {
    pub line: usize,
    pub file: PathBuf,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub nodes: Vec<PlanNode>,
    pub edges: Vec<PlanEdge>,
    /// Where planning stopped, if it did not reach the end of the body.
    pub sync: Option<SyncPoint>,
    /// Problems found at calls (e.g. `weft::unsatisfiable`).
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks one call as the planner meets it; returns a diagnostic to report at the call.
pub type CallCheck<'a> = dyn FnMut(&Program, &TaskCall<'_>) -> Option<Diagnostic> + 'a;

struct Planner<'a, 'c> {
    base: PathBuf,
    tracker: Tracker,
    /// The task producing each future, by `FutureId - 1`: the planner numbers futures from 1
    /// without gaps.
    producers: Vec<TaskId>,
    groups: Vec<String>,
    plan: Plan,
    /// Loop iterations so far, against `LOOP_BUDGET`.
    iterations: u64,
    /// Doc comments shared by every node of a task.
    docs: foldhash::HashMap<*const crate::ast::Task, Option<Arc<str>>>,
    /// Each datum's path as edge labels show it (relative to the base), made on first use.
    shown_paths: Vec<Option<Box<str>>>,
    /// Buffers for the call being planned, kept between calls: its accesses, the producers
    /// of what it reads (see `call_task`), its dependencies.
    accesses: Vec<(DatumId, Direction)>,
    through: Vec<(TaskId, DatumId, u32)>,
    deps: Vec<TaskId>,
    /// Paths whose existence was read from the disk: asking again means the body polls for
    /// something the run will do, which planning cannot foresee.
    asked_disk: std::collections::HashSet<PathBuf>,
    check: &'a mut CallCheck<'c>,
}

impl Planner<'_, '_> {
    fn sync(&self, site: &Site, reason: impl Into<String>) -> Interrupt {
        Interrupt::Stop(Stop::Sync {
            site: site.clone(),
            reason: reason.into(),
        })
    }

    fn pending(&self, datum: DatumId) -> bool {
        !self.tracker.producers(datum).is_empty()
    }

    /// The label of an edge through `datum`: its path and the version read.
    fn datum_label(&mut self, datum: DatumId, version: u32) -> String {
        let index = datum.0 as usize;
        if self.shown_paths.len() <= index {
            self.shown_paths.resize(index + 1, None);
        }
        let shown = self.shown_paths[index].get_or_insert_with(|| {
            let path = self.tracker.path(datum);
            let relative = path.strip_prefix(&self.base).unwrap_or(path);
            relative.display().to_string().into_boxed_str()
        });
        let mut label = String::with_capacity(shown.len() + 12);
        label.push_str(shown);
        label.push_str(" v");
        push_decimal(&mut label, u64::from(version));
        label
    }

    /// The task producing a future, if the planner made it.
    fn producer(&self, future: FutureId) -> Option<TaskId> {
        let index = usize::try_from(future.0.checked_sub(1)?).ok()?;
        self.producers.get(index).copied()
    }

    fn fresh_future(&mut self, producer: TaskId) -> FutureId {
        self.producers.push(producer);
        FutureId(self.producers.len() as u64)
    }
}

impl Backend for Planner<'_, '_> {
    fn call_task(
        &mut self,
        program: &Program,
        call: TaskCall<'_>,
    ) -> Result<CallResult, Interrupt> {
        if let Some(diagnostic) = (self.check)(program, &call) {
            self.plan.diagnostics.push(diagnostic);
        }
        if path_future(call.task, &call.args).is_some() {
            return Err(self.sync(&call.site, "a path argument is the result of a task"));
        }
        let id = self.plan.nodes.len() as TaskId;
        let mut accesses = std::mem::take(&mut self.accesses);
        accesses.clear();
        for_each_path(call.task, &call.args, |access| {
            let datum = self.tracker.datum(&self.base, access.path);
            accesses.push((datum, access.direction));
        });
        // Which datum each dependency comes through, for the edge labels: the producers of
        // what each reading access reads, taken before the call registers its own writes;
        // the first access through which a producer is reached names the edge.
        let mut through = std::mem::take(&mut self.through);
        through.clear();
        for &(datum, direction) in &accesses {
            if direction.reads() {
                let version = self.tracker.version(datum);
                through.extend(
                    self.tracker
                        .producers(datum)
                        .iter()
                        .map(|&producer| (producer, datum, version)),
                );
            }
        }
        // A stable sort keeps each producer's first access first.
        through.sort_by_key(|&(producer, ..)| producer);
        through.dedup_by_key(|&mut (producer, ..)| producer);
        let mut deps = std::mem::take(&mut self.deps);
        self.tracker.register_deps(id, &accesses, &mut deps);
        self.accesses = accesses;
        for &dep in &deps {
            let label = match through.binary_search_by_key(&dep, |&(producer, ..)| producer) {
                Ok(at) => {
                    let (_, datum, version) = through[at];
                    self.datum_label(datum, version)
                }
                Err(_) => String::new(),
            };
            self.plan.edges.push(PlanEdge {
                from: dep,
                to: id,
                label,
            });
        }
        // Edges for the futures the call reads, after those for its files; an edge already
        // there (a producer of both) is not repeated.
        let mut futures = Vec::new();
        for (_, value) in call.task.params.iter().zip(call.args.values()) {
            value.futures(&mut futures);
        }
        if !futures.is_empty() {
            let mut linked: HashSet<TaskId> = deps.iter().copied().collect();
            for future in futures {
                if let Some(producer) = self.producer(future) {
                    if linked.insert(producer) {
                        self.plan.edges.push(PlanEdge {
                            from: producer,
                            to: id,
                            label: "result".to_string(),
                        });
                    }
                }
            }
        }
        self.through = through;
        self.deps = deps;
        let value = result_value(call.task, || self.fresh_future(id));
        let rebind: Vec<(String, Value)> = written_json_params(call.task)
            .map(|(_, p)| (p.name.name.clone(), Value::Future(self.fresh_future(id))))
            .collect();
        let doc = self
            .docs
            .entry(call.task as *const _)
            .or_insert_with(|| call.task.doc.as_deref().map(Arc::from))
            .clone();
        self.plan.nodes.push(PlanNode {
            id,
            task: call.task.name.name.clone(),
            module: call.module,
            doc,
            line: call.site.line(),
            group: self.groups.last().cloned(),
            groups: self.groups.clone(),
        });
        Ok(CallResult { value, rebind })
    }

    fn resolve(&mut self, _future: FutureId, site: &Site) -> Result<Value, Interrupt> {
        Err(self.sync(site, "the body needs the result of a task"))
    }

    fn print(&mut self, _line: &str) -> Result<(), Interrupt> {
        Ok(())
    }

    fn read_file(&mut self, path: &str, site: &Site) -> Result<Vec<u8>, Interrupt> {
        if let Some(datum) = self.tracker.find(&self.base, path) {
            if self.pending(datum) || self.tracker.version(datum) > 0 {
                return Err(self.sync(
                    site,
                    format!("the body reads `{path}`, which the run writes"),
                ));
            }
        }
        std::fs::read(self.base.join(path)).map_err(|_| {
            self.sync(
                site,
                format!("the body reads `{path}`, which does not exist yet"),
            )
        })
    }

    fn wait_path(&mut self, path: &str, site: &Site) -> Result<(), Interrupt> {
        match self.tracker.find(&self.base, path) {
            Some(datum) if self.pending(datum) => {
                Err(self.sync(site, format!("the body waits for `{path}`")))
            }
            _ => Ok(()),
        }
    }

    fn write_file(&mut self, path: &str, _contents: &[u8], _site: &Site) -> Result<(), Interrupt> {
        let datum = self.tracker.datum(&self.base, path);
        self.tracker.body_write(datum);
        Ok(())
    }

    fn exists(&mut self, path: &str, site: &Site) -> Result<bool, Interrupt> {
        let known = self
            .tracker
            .find(&self.base, path)
            .and_then(|d| self.tracker.known_existence(d));
        if let Some(known) = known {
            return Ok(known);
        }
        let on_disk = crate::deps::normalise(&self.base, path);
        if !self.asked_disk.insert(on_disk.clone()) {
            // Nothing planned changes it in between: the body waits for something only the
            // run does (a task's side effect, another program), so planning stops here
            // instead of spinning through its loop budget.
            return Err(self.sync(
                site,
                format!("the body asks again whether `{path}` exists: it waits for the run"),
            ));
        }
        Ok(on_disk.exists())
    }

    fn delete(&mut self, path: &str, _site: &Site) -> Result<(), Interrupt> {
        let datum = self.tracker.datum(&self.base, path);
        self.tracker.body_delete(datum);
        Ok(())
    }

    fn glob(&mut self, pattern: &str, site: &Site) -> Result<Vec<String>, Interrupt> {
        let matcher =
            glob::Pattern::new(&crate::deps::normalise(&self.base, pattern).to_string_lossy())
                .map_err(|e| site.error(format!("bad glob pattern: {e}")))?;
        let touched = self
            .tracker
            .data()
            .any(|(d, p)| matcher.matches_path(p) && self.tracker.version(d) > 0);
        if touched {
            return Err(self.sync(
                site,
                format!("the body globs `{pattern}`, which the run writes"),
            ));
        }
        glob_on_disk(&self.base, pattern).map_err(|e| site.error(e))
    }

    fn enter_group(&mut self, name: &str, _site: &Site) -> Result<(), Interrupt> {
        self.groups.push(name.to_string());
        Ok(())
    }

    fn leave_group(&mut self, _nowait: bool, _site: &Site) -> Result<(), Interrupt> {
        self.groups.pop();
        Ok(())
    }

    fn barrier(&mut self, _group: Option<&str>, _site: &Site) -> Result<(), Interrupt> {
        Ok(())
    }

    fn before_loop_iteration(&mut self) -> bool {
        self.iterations += 1;
        self.iterations > LOOP_BUDGET
    }
}

/// How many loop iterations the planner runs before it stops looking ahead: ten times the
/// calls of the largest workflows we plan, few enough that `while true` cannot hang
/// `weft check` (it stops in about a second).
const LOOP_BUDGET: u64 = 10_000_000;

/// `glob(pattern)` on the file system: sorted matching paths, relative patterns giving
/// relative paths as written (`d/*.txt` → `d/a.txt`).
pub fn glob_on_disk(base: &Path, pattern: &str) -> Result<Vec<String>, String> {
    let absolute = Path::new(pattern).is_absolute();
    let full = if absolute {
        pattern.to_string()
    } else {
        format!(
            "{}/{}",
            glob::Pattern::escape(&base.to_string_lossy()),
            pattern
        )
    };
    let mut out = Vec::new();
    for entry in glob::glob(&full).map_err(|e| format!("bad glob pattern `{pattern}`: {e}"))? {
        let Ok(path) = entry else { continue };
        let shown = if absolute {
            path.to_string_lossy().into_owned()
        } else {
            let relative = path.strip_prefix(base).unwrap_or(&path).to_string_lossy();
            // Relative paths come back as the pattern writes them (`./d/*` → `./d/a`).
            match pattern.strip_prefix("./") {
                Some(_) => format!("./{relative}"),
                None => relative.into_owned(),
            }
        };
        out.push(shown);
    }
    out.sort();
    Ok(out)
}

/// Plans a workflow: every call known before running, with its dependencies.
pub fn plan_workflow(
    program: &Program,
    module: ModuleId,
    workflow: &crate::ast::Workflow,
    args: IndexMap<String, Value>,
    base: &Path,
    check: &mut CallCheck<'_>,
) -> Result<Plan, Box<Diagnostic>> {
    let planner = Planner {
        base: base.to_path_buf(),
        tracker: Tracker::new(),
        producers: Vec::new(),
        groups: Vec::new(),
        plan: Plan::default(),
        docs: Default::default(),
        shown_paths: Vec::new(),
        accesses: Vec::new(),
        through: Vec::new(),
        deps: Vec::new(),
        asked_disk: std::collections::HashSet::new(),
        iterations: 0,
        check,
    };
    let mut evaluator = Evaluator::new(program, planner);
    let outcome = evaluator.run_workflow(module, workflow, args);
    let mut plan = std::mem::take(&mut evaluator.backend.plan);
    match outcome {
        Ok(()) | Err(Interrupt::Exception(_)) | Err(Interrupt::Stop(Stop::Aborted)) => {}
        Err(Interrupt::Stop(Stop::Sync { site, reason })) => {
            plan.sync = Some(SyncPoint {
                line: site.line(),
                file: site.file.path.clone(),
                reason,
            });
        }
        Err(Interrupt::Error(diagnostic)) => {
            // Reported by the run when the body gets there (§6.2): the plan ends here.
            let (line, _) = diagnostic.line_col();
            plan.sync = Some(SyncPoint {
                line,
                file: diagnostic.file.path.clone(),
                reason: diagnostic.message.clone(),
            });
        }
    }
    Ok(plan)
}

impl Plan {
    /// `weft graph --format json` (§10), with edge labels and the sync point as extra keys.
    pub fn to_json(&self) -> serde_json::Value {
        let mut text = Vec::new();
        self.write_json(&mut text)
            .expect("writing JSON into memory cannot fail");
        serde_json::from_slice(&text).expect("the plan's JSON reads back")
    }

    /// Writes the JSON of `to_json` as it goes, without building it in memory first (a plan
    /// of a million calls would need gigabytes as a `serde_json::Value`).
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        use std::io::Write as _;
        // Written by hand rather than through serde: a million nodes spend most of their time
        // in serde's per-field machinery. The bytes are serde_json's compact form.
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        out.write_all(b"{\"nodes\":[")?;
        for (i, n) in self.nodes.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"{\"id\":")?;
            write_json_number(&mut out, n.id)?;
            out.write_all(b",\"task\":")?;
            write_json_str(&mut out, &n.task)?;
            out.write_all(b",\"group\":")?;
            write_json_optional_str(&mut out, n.group.as_deref())?;
            out.write_all(b",\"line\":")?;
            write_json_number(&mut out, n.line as u64)?;
            out.write_all(b",\"doc\":")?;
            write_json_optional_str(&mut out, n.doc.as_deref())?;
            out.write_all(b"}")?;
        }
        out.write_all(b"],\"edges\":[")?;
        for (i, e) in self.edges.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"{\"from\":")?;
            write_json_number(&mut out, e.from)?;
            out.write_all(b",\"to\":")?;
            write_json_number(&mut out, e.to)?;
            out.write_all(b",\"label\":")?;
            write_json_str(&mut out, &e.label)?;
            out.write_all(b"}")?;
        }
        out.write_all(b"],\"sync\":")?;
        let sync = self.sync.as_ref().map(|s| {
            serde_json::json!({
                "line": s.line,
                "reason": s.reason,
            })
        });
        serde_json::to_writer(&mut out, &sync)?;
        out.write_all(b"}\n")?;
        out.flush()
    }

    /// Graphviz: one box per call named by task and line, groups as clusters, the sync point
    /// as a note.
    pub fn to_dot(&self) -> String {
        let mut out =
            String::from("digraph weft {\n    rankdir=TB;\n    node [shape=box, style=rounded];\n");
        let mut tree = GroupTree::default();
        for node in &self.nodes {
            tree.insert(&node.groups, node.id);
        }
        let label = |n: &PlanNode| format!("{} (line {})", n.task, n.line);
        let mut cluster = 0;
        tree.write_dot(&self.nodes, &label, &mut cluster, 1, &mut out);
        for e in &self.edges {
            out.push_str(&format!(
                "    n{} -> n{} [label={}];\n",
                e.from,
                e.to,
                dot_quote(&e.label)
            ));
        }
        if let Some(sync) = &self.sync {
            out.push_str(&format!(
                "    sync [shape=note, label={}];\n",
                dot_quote(&format!(
                    "sync point at line {}: {}",
                    sync.line, sync.reason
                ))
            ));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart: groups as subgraphs.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        let mut tree = GroupTree::default();
        for node in &self.nodes {
            tree.insert(&node.groups, node.id);
        }
        let mut counter = 0;
        tree.write_mermaid(&self.nodes, &mut counter, 1, &mut out);
        for e in &self.edges {
            if e.label.is_empty() {
                out.push_str(&format!("    n{} --> n{}\n", e.from, e.to));
            } else {
                out.push_str(&format!(
                    "    n{} -->|\"{}\"| n{}\n",
                    e.from,
                    e.label.replace('"', "#quot;"),
                    e.to
                ));
            }
        }
        if let Some(sync) = &self.sync {
            out.push_str(&format!(
                "    sync[/\"sync point at line {}: {}\"/]\n",
                sync.line,
                sync.reason.replace('"', "#quot;")
            ));
        }
        out
    }
}

/// A JSON string as serde_json writes it: text that needs no escape (names, most paths) as
/// is, anything else through serde_json.
fn write_json_str(out: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    let plain = text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\"")
    } else {
        serde_json::to_writer(out, text).map_err(std::io::Error::other)
    }
}

fn write_json_optional_str(
    out: &mut impl std::io::Write,
    text: Option<&str>,
) -> std::io::Result<()> {
    match text {
        Some(text) => write_json_str(out, text),
        None => out.write_all(b"null"),
    }
}

fn write_json_number(out: &mut impl std::io::Write, n: u64) -> std::io::Result<()> {
    out.write_all(decimal(n, &mut [0; 20]))
}

fn push_decimal(out: &mut String, n: u64) {
    let mut digits = [0; 20];
    // The digits are ASCII.
    out.push_str(std::str::from_utf8(decimal(n, &mut digits)).unwrap_or_default());
}

/// A number's decimal digits, written into the end of `digits`, without going through `fmt`
/// (the graph of a million calls writes millions of numbers).
fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &digits[start..]
}

fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Nodes arranged by their group nesting, for the cluster outputs.
#[derive(Default)]
struct GroupTree {
    nodes: Vec<TaskId>,
    children: IndexMap<String, GroupTree>,
}

impl GroupTree {
    fn insert(&mut self, groups: &[String], id: TaskId) {
        match groups.split_first() {
            None => self.nodes.push(id),
            Some((first, rest)) => self
                .children
                .entry(first.clone())
                .or_default()
                .insert(rest, id),
        }
    }

    fn write_dot(
        &self,
        nodes: &[PlanNode],
        label: &dyn Fn(&PlanNode) -> String,
        cluster: &mut usize,
        depth: usize,
        out: &mut String,
    ) {
        let indent = "    ".repeat(depth);
        for id in &self.nodes {
            let node = &nodes[*id as usize];
            let tooltip = node
                .doc
                .as_deref()
                .map(|d| format!(", tooltip={}", dot_quote(d)))
                .unwrap_or_default();
            out.push_str(&format!(
                "{indent}n{id} [label={}{tooltip}];\n",
                dot_quote(&label(node))
            ));
        }
        for (name, child) in &self.children {
            *cluster += 1;
            out.push_str(&format!(
                "{indent}subgraph cluster_{} {{\n{indent}    label={};\n",
                cluster,
                dot_quote(&format!("group {name}"))
            ));
            child.write_dot(nodes, label, cluster, depth + 1, out);
            out.push_str(&format!("{indent}}}\n"));
        }
    }

    fn write_mermaid(
        &self,
        nodes: &[PlanNode],
        counter: &mut usize,
        depth: usize,
        out: &mut String,
    ) {
        let indent = "    ".repeat(depth);
        for id in &self.nodes {
            let n = &nodes[*id as usize];
            out.push_str(&format!(
                "{indent}n{id}[\"{} (line {})\"]\n",
                n.task, n.line
            ));
            if let Some(doc) = &n.doc {
                // Mermaid shows a tooltip for a node through `click`.
                out.push_str(&format!(
                    "{indent}click n{id} callback \"{}\"\n",
                    doc.replace('"', "#quot;").replace('\n', " ")
                ));
            }
        }
        for (name, child) in &self.children {
            *counter += 1;
            out.push_str(&format!(
                "{indent}subgraph g{}[\"group {}\"]\n",
                counter,
                name.replace('"', "#quot;")
            ));
            child.write_mermaid(nodes, counter, depth + 1, out);
            out.push_str(&format!("{indent}end\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(text: &str) -> Plan {
        let program = Program::from_source(Path::new("/plan/main.wf"), text.to_string())
            .unwrap_or_else(|d| panic!("does not parse: {d:?}"));
        let workflow = program.entry_workflow(None).expect("a workflow");
        plan_workflow(
            &program,
            program.root,
            workflow,
            IndexMap::new(),
            Path::new("/plan"),
            &mut |_, _| None,
        )
        .expect("plans")
    }

    fn labelled_edges(plan: &Plan) -> Vec<(TaskId, TaskId, &str)> {
        plan.edges
            .iter()
            .map(|e| (e.from, e.to, e.label.as_str()))
            .collect()
    }

    #[test]
    fn an_edge_is_named_by_the_first_path_it_comes_through_and_made_once() {
        let plan = plan_of(
            r#"
task both(a: out file, b: out file) -> int { shell "echo 1" }
task read2(x: file, y: file, n: int) { shell "true" }
workflow main() {
    let n = both("d/../a.txt", "b.txt")
    read2("b.txt", "./a.txt", n)
    read2("a.txt", "b.txt", 1)
}
"#,
        );
        assert_eq!(
            labelled_edges(&plan),
            vec![(0, 1, "b.txt v1"), (0, 2, "a.txt v1")]
        );
    }

    #[test]
    fn results_give_edges_after_files_and_each_producer_once() {
        let plan = plan_of(
            r#"
task num() -> int { shell "echo 1" }
task write(o: out file) -> int { shell "echo 1" }
task use(i: file, xs: [int]) { shell "true" }
workflow main() {
    let a = num()
    let b = write("f")
    use("f", [a, b, a])
}
"#,
        );
        assert_eq!(
            labelled_edges(&plan),
            vec![(1, 2, "f v1"), (0, 2, "result")]
        );
    }

    #[test]
    fn written_json_is_the_compact_json_serde_writes() {
        let mut plan = Plan {
            nodes: vec![PlanNode {
                id: 7,
                task: "t".to_string(),
                module: 0,
                doc: Some(Arc::from("says \"hi\"\n\tand é \u{1}")),
                line: 12,
                group: Some("g\\1".to_string()),
                groups: vec!["g\\1".to_string()],
            }],
            edges: vec![PlanEdge {
                from: 0,
                to: 18446744073709551615,
                label: "dir/a b.txt v3".to_string(),
            }],
            ..Plan::default()
        };
        plan.sync = Some(SyncPoint {
            line: 3,
            file: PathBuf::from("/plan/main.wf"),
            reason: "why".to_string(),
        });
        let mut written = Vec::new();
        plan.write_json(&mut written).expect("writes");
        let expected = serde_json::json!({
            "nodes": [{
                "id": 7,
                "task": "t",
                "group": "g\\1",
                "line": 12,
                "doc": "says \"hi\"\n\tand é \u{1}",
            }],
            "edges": [{"from": 0, "to": 18446744073709551615u64, "label": "dir/a b.txt v3"}],
            "sync": {"line": 3, "reason": "why"},
        });
        assert_eq!(
            String::from_utf8(written).expect("UTF-8"),
            format!("{expected}\n")
        );
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut digits = [0; 20];
        assert_eq!(decimal(0, &mut digits), b"0");
        assert_eq!(decimal(1907, &mut digits), b"1907");
        assert_eq!(
            decimal(u64::MAX, &mut digits),
            u64::MAX.to_string().as_bytes()
        );
        let mut text = String::from("v");
        push_decimal(&mut text, 42);
        assert_eq!(text, "v42");
    }
}
