//! weft's standard library: modules written in weft, shipped inside the binary.

/// The source of `std.NAME`, if there is such a module.
pub fn module_source(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, src)| *src)
}

/// The names of every standard module.
pub fn module_names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _)| *n)
}

const MODULES: &[(&str, &str)] = &[];
