//! The code and the docs cite promise codes (`I6`, `F2`, `D3`…) and benchmark ids (`B1`…)
//! in place of repeating a promise. Each must be defined in the repository: promise codes
//! in the table of `docs/FEDERATION.md` ("Promises, by code"), benchmark ids in the targets
//! table of `docs/performance.md`. This test fails when a file cites a code that neither
//! defines, so the docs keep standing alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// The letters that start a code: inbox, fetch, delivery promises and benchmarks.
const PREFIXES: &[char] = &['I', 'F', 'D', 'B'];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every code-shaped word in `text`: a prefix letter and one or two digits, standing
/// alone (not inside an identifier, a hex string or a longer word).
fn codes_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !word(chars[i - 1]);
        if starts_word && PREFIXES.contains(&chars[i]) {
            let digits = chars[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let end = i + 1 + digits;
            let ends_word = end == chars.len() || !word(chars[end]);
            if (1..=2).contains(&digits) && ends_word {
                found.push(chars[i..end].iter().collect());
            }
        }
        i += 1;
    }
    found
}

/// The codes a doc defines: the first cell of each row of its tables, when it is a code.
fn defined_in(doc: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    text.lines()
        .filter_map(|line| line.strip_prefix('|'))
        .filter_map(|row| row.split('|').next())
        .map(|cell| cell.trim())
        .filter_map(|cell| cell.split_whitespace().next())
        .filter(|first| codes_in(first).as_slice() == [first.to_string()])
        .map(str::to_string)
        .collect()
}

fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

#[test]
fn every_cited_code_is_defined_in_the_docs() {
    let root = root();
    let mut defined = defined_in(&root.join("docs/FEDERATION.md"));
    defined.extend(defined_in(&root.join("docs/performance.md")));
    // The tables themselves must be there, or every citation below would be undefined.
    for must in ["I6", "F2", "D3", "B1", "B2"] {
        assert!(defined.contains(must), "{must} is not defined in docs/FEDERATION.md or docs/performance.md");
    }

    let mut files = Vec::new();
    files_under(&root.join("src"), "rs", &mut files);
    files_under(&root.join("migrations/src"), "rs", &mut files);
    for doc in ["README.md", "docs/ARCHITECTURE.md", "docs/FEDERATION.md", "docs/configuration.md", "docs/deploy.md"] {
        files.push(root.join(doc));
    }
    files_under(&root.join("docs/adr"), "md", &mut files);

    let mut undefined: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (n, line) in text.lines().enumerate() {
            for code in codes_in(line) {
                if !defined.contains(&code) {
                    let at = format!("{}:{}", file.strip_prefix(&root).unwrap_or(file).display(), n + 1);
                    undefined.entry(code).or_default().push(at);
                }
            }
        }
    }
    assert!(undefined.is_empty(), "codes cited but defined nowhere in docs/: {undefined:#?}");
}

#[test]
fn the_code_finder_sees_codes_and_nothing_else() {
    assert_eq!(codes_in("checks (I8) then F2, D10."), ["I8", "F2", "D10"]);
    assert_eq!(codes_in("B1 and B5: growth"), ["B1", "B5"]);
    assert!(codes_in("sha256 0xD1 FID2 I123 ID3 iI3 x_I3 F").is_empty());
    assert_eq!(codes_in("| I13 | a promise |"), ["I13"]);
}
