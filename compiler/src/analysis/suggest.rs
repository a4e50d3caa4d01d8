//! "Did you mean …?" suggestions.

/// The candidate closest to `name` by edit distance (transpositions count once), if it is
/// close enough to be a likely typo: at most one edit per three characters, and at least one.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&wanted, &candidate.to_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= limit)
        // `min_by_key` keeps the first of equals: candidates come in a meaningful order.
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// "did you mean `x`?" for the closest candidate.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// `a, b, c` with each name in backquotes.
pub(crate) fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_close_names() {
        assert_eq!(closest("cpy", ["copy", "move"]), Some("copy"));
        assert_eq!(closest("lenght", ["len", "length"]), Some("length"));
        assert_eq!(closest("y", ["x"]), Some("x"));
        assert_eq!(closest("banana", ["copy", "move"]), None);
        assert_eq!(
            closest("copy", ["copy"]),
            None,
            "never suggests the name itself"
        );
    }
}
