//! weft's standard library: modules written in weft, shipped inside the binary.

/// The source of `std.NAME`, if there is such a module.
pub fn module_source(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, src)| *src)
}

/// The names of every standard module.
pub fn module_names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _)| *n)
}

/// Every standard module: its name after `std.` and its source, compiled into the binary.
const MODULES: &[(&str, &str)] = &[
    ("fs", include_str!("../std/fs.wf")),
    ("json", include_str!("../std/json.wf")),
    ("text", include_str!("../std/text.wf")),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_is_found_by_name() {
        let names: Vec<&str> = module_names().collect();
        assert_eq!(names, ["fs", "json", "text"]);
        for name in names {
            let source = module_source(name).expect("listed modules have a source");
            assert!(source.contains("task "), "std.{name} defines tasks");
        }
        assert!(module_source("nope").is_none());
    }
}
