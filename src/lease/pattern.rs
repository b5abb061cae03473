//! What a lease covers, and when two leases overlap.
//!
//! A lease names a **pattern**: a path or a glob, relative to the workspace
//! root, `/`-separated. `*` matches any run of characters within one path
//! segment (dot files too), `?` one character, `[abc]` / `[a-z]` / `[!a]`
//! one character of (or not of) a class, and a whole segment `**` any
//! number of segments, none included. Matching is case-sensitive and
//! lexical: symbolic links are not followed.
//!
//! A pattern covers every path it matches **and everything below those
//! paths**: a lease on the directory `src` covers `src/a.rs`, one on
//! `src/*` covers `src/sub/b.rs`. So a pattern `P` covers exactly what the
//! glob `P/**` matches (which includes `P` itself).
//!
//! Two patterns **overlap** when some path is covered by both. That is
//! decided exactly by walking both patterns together (segment by segment,
//! then character by character within a segment), with one conservative
//! assumption: every character class matches at least one character. A
//! class that matches nothing (`[!\x00-\u{10ffff}]`) is taken to match
//! something, so it may be reported as a conflict where there is none;
//! no overlap is ever missed.
//!
//! Not accepted (exit 2): `{a,b}` alternation, backslash escapes, `**`
//! inside a segment (`a**`), `..` above the workspace root, and an
//! unclosed `[`.

use std::path::{Component, Path};

use anyhow::Result;

use crate::error::usage;

/// One character position of a segment glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `?`
    Any,
    /// `*` (consecutive stars are one)
    Star,
    /// `[...]`: inclusive ranges, negated with `!` or `^`.
    Class {
        neg: bool,
        ranges: Vec<(char, char)>,
    },
}

/// One segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// `**`: any number of segments.
    Deep,
    Glob(Vec<Tok>),
}

/// A checked pattern: its canonical text and its parsed segments, with the
/// implied `/**` at the end (a pattern covers everything below what it
/// matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    segs: Vec<Seg>,
}

impl Pattern {
    /// Parse a pattern already relative to the workspace root (as stored).
    pub fn parse(text: &str) -> Result<Pattern> {
        let text = normalize_rel(text)?;
        let mut segs = Vec::new();
        if text != "**" {
            for s in text.split('/') {
                segs.push(parse_seg(s, &text)?);
            }
        }
        if segs.last() != Some(&Seg::Deep) {
            segs.push(Seg::Deep);
        }
        Ok(Pattern { text, segs })
    }

    /// The canonical text, as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has any glob character (else it is a path).
    pub fn is_glob(&self) -> bool {
        self.text.contains(['*', '?', '['])
    }

    /// Whether some path is covered by both patterns.
    pub fn overlaps(&self, other: &Pattern) -> bool {
        seqs_meet(&self.segs, &other.segs, |a, b| match (a, b) {
            (Seg::Deep, _) | (_, Seg::Deep) => unreachable!("handled by seqs_meet"),
            (Seg::Glob(x), Seg::Glob(y)) => segs_meet(x, y),
        })
    }

    /// Whether this pattern covers the concrete workspace-relative `path`
    /// (`/`-separated, as git names it).
    pub fn covers(&self, path: &str) -> bool {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.covers_segs(&segs)
    }

    /// `covers` for a path already split into its segments.
    pub fn covers_segs(&self, path: &[&str]) -> bool {
        match_segs(&self.segs, path)
    }

    /// The pattern's first segment when it is a plain name (no glob
    /// characters): a path can only be covered if it starts with it.
    pub fn literal_head(&self) -> Option<String> {
        match self.segs.first() {
            Some(Seg::Glob(toks)) => toks
                .iter()
                .map(|t| match t {
                    Tok::Lit(c) => Some(*c),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }

    /// The same path without the implied "and everything below".
    #[cfg(test)]
    fn exact(mut self) -> Pattern {
        if self.segs.last() == Some(&Seg::Deep) && self.text != "**" {
            self.segs.pop();
        }
        self
    }

    /// The globs (globset syntax) that match exactly what this pattern
    /// covers: the pattern itself and everything below it (the tests check
    /// `covers` against globset with these).
    #[cfg(test)]
    fn globs(&self) -> [String; 2] {
        // A trailing `/**` adds nothing: a pattern covers what is below it.
        let mut base = self.text.as_str();
        while let Some(b) = base.strip_suffix("/**") {
            base = b;
        }
        if base == "**" {
            return ["**".into(), "**".into()];
        }
        [base.to_string(), format!("{base}/**")]
    }
}

/// A concrete path as a pattern: its glob characters made literal
/// (`[*]`), so that the overlap walk can be checked against `covers`.
#[cfg(test)]
fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether the segments `p` (a pattern's) match the path segments `s`.
fn match_segs(p: &[Seg], s: &[&str]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((Seg::Deep, [])) => true,
        Some((Seg::Deep, rest)) => (0..=s.len()).any(|i| match_segs(rest, &s[i..])),
        Some((Seg::Glob(t), rest)) => {
            !s.is_empty() && match_chars(t, s[0]) && match_segs(rest, &s[1..])
        }
    }
}

/// Whether a segment glob matches the segment `s`: the usual wildcard walk,
/// going back to the last `*` on a mismatch.
fn match_chars(t: &[Tok], s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    let (mut ti, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < c.len() {
        match t.get(ti) {
            Some(Tok::Star) => {
                star = Some((ti, si));
                ti += 1;
            }
            Some(tok) if char_matches(tok, c[si]) => {
                ti += 1;
                si += 1;
            }
            _ => match star {
                Some((st, ss)) => {
                    ti = st + 1;
                    si = ss + 1;
                    star = Some((st, ss + 1));
                }
                None => return false,
            },
        }
    }
    t[ti..].iter().all(|x| *x == Tok::Star)
}

fn char_matches(t: &Tok, c: char) -> bool {
    match t {
        Tok::Lit(x) => *x == c,
        Tok::Any => true,
        Tok::Class { neg, ranges } => in_ranges(c, ranges) != *neg,
        Tok::Star => true,
    }
}

/// Resolve what a user typed (relative to `cwd`, or absolute) into a
/// pattern relative to the workspace `root`.
pub fn from_user(input: &str, cwd: &Path, root: &Path) -> Result<Pattern> {
    check_chars(input)?;
    let rel = relative_path(input, cwd, root)?;
    Pattern::parse(if rel.is_empty() { "**" } else { &rel })
}

/// A path as a user typed it (relative to `cwd`, or absolute), lexically
/// normalised and made relative to the workspace `root`; outside it is a
/// usage error. The root itself is "".
pub fn relative_path(input: &str, cwd: &Path, root: &Path) -> Result<String> {
    let p = Path::new(input);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    // Lexical normalisation: `.` and `..` resolved without the filesystem.
    let mut parts: Vec<String> = Vec::new();
    for c in joined.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => parts.clear(),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let root_parts: Vec<String> = root
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if parts.len() < root_parts.len() || parts[..root_parts.len()] != root_parts[..] {
        return Err(usage(format!(
            "{input:?} is outside the workspace {}",
            root.display()
        ))
        .hint("leases name paths inside the workspace (relative to where you are, or absolute)")
        .into());
    }
    Ok(parts[root_parts.len()..].join("/"))
}

fn check_chars(text: &str) -> Result<()> {
    let bad = |what: &str| -> anyhow::Error {
        usage(format!("lease pattern {text:?}: {what}"))
            .hint("a lease is a path or a glob with *, ?, [a-z] and ** (see README: Leases)")
            .into()
    };
    if text.is_empty() {
        return Err(bad("empty"));
    }
    if text.contains('\0') || text.chars().any(char::is_control) {
        return Err(bad("control characters are not allowed"));
    }
    if text.contains(['{', '}']) {
        return Err(bad(
            "{a,b} alternation is not supported; lease each pattern separately",
        ));
    }
    if text.contains('\\') {
        return Err(bad("backslash escapes are not supported"));
    }
    Ok(())
}

/// A stored (relative) pattern: `.` segments and empty segments dropped,
/// `..` refused.
fn normalize_rel(text: &str) -> Result<String> {
    check_chars(text)?;
    if text.starts_with('/') {
        return Err(usage(format!(
            "lease pattern {text:?} must be relative to the workspace root"
        ))
        .into());
    }
    let mut parts = Vec::new();
    for s in text.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                return Err(usage(format!(
                    "lease pattern {text:?}: `..` is not allowed in a stored pattern"
                ))
                .into());
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Ok("**".into());
    }
    Ok(parts.join("/"))
}

fn parse_seg(s: &str, whole: &str) -> Result<Seg> {
    if s == "**" {
        return Ok(Seg::Deep);
    }
    if s.contains("**") {
        return Err(usage(format!(
            "lease pattern {whole:?}: `**` must be a whole path segment (as in src/**/x.rs)"
        ))
        .into());
    }
    let mut toks = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                if toks.last() != Some(&Tok::Star) {
                    toks.push(Tok::Star);
                }
            }
            '?' => toks.push(Tok::Any),
            '[' => {
                let mut neg = false;
                if matches!(chars.peek(), Some('!' | '^')) {
                    neg = true;
                    chars.next();
                }
                let mut ranges = Vec::new();
                let mut first = true;
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = false;
                    if chars.peek() == Some(&'-') {
                        let mut ahead = chars.clone();
                        ahead.next();
                        match ahead.peek() {
                            Some(&hi) if hi != ']' => {
                                chars.next();
                                chars.next();
                                if hi < c {
                                    return Err(usage(format!(
                                        "lease pattern {whole:?}: range {c}-{hi} is backwards"
                                    ))
                                    .into());
                                }
                                ranges.push((c, hi));
                                continue;
                            }
                            _ => {}
                        }
                    }
                    ranges.push((c, c));
                }
                if !closed {
                    return Err(usage(format!("lease pattern {whole:?}: unclosed `[`")).into());
                }
                toks.push(Tok::Class { neg, ranges });
            }
            c => toks.push(Tok::Lit(c)),
        }
    }
    Ok(Seg::Glob(toks))
}

/// Whether two sequences with a "many" element can describe a common
/// sequence: the one walk used for segments (`Deep` is many segments) and
/// for characters (`Star` is many characters). `one(a, b)`: whether two
/// single elements can match the same thing.
fn seqs_meet<T: Many>(a: &[T], b: &[T], one: impl Fn(&T, &T) -> bool) -> bool {
    let (n, m) = (a.len(), b.len());
    // meet[i][j]: the tails a[i..] and b[j..] can match a common sequence.
    let mut meet = vec![vec![false; m + 1]; n + 1];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            meet[i][j] = if i == n && j == m {
                true
            } else if i < n && a[i].is_many() {
                // Let a's "many" match nothing more, or one more of b's.
                meet[i + 1][j] || (j < m && meet[i][j + 1])
            } else if j < m && b[j].is_many() {
                meet[i][j + 1] || (i < n && meet[i + 1][j])
            } else if i < n && j < m {
                one(&a[i], &b[j]) && meet[i + 1][j + 1]
            } else {
                false
            };
        }
    }
    meet[0][0]
}

trait Many {
    fn is_many(&self) -> bool;
}

impl Many for Seg {
    fn is_many(&self) -> bool {
        *self == Seg::Deep
    }
}

impl Many for Tok {
    fn is_many(&self) -> bool {
        *self == Tok::Star
    }
}

/// Whether two segment globs match a common segment.
fn segs_meet(a: &[Tok], b: &[Tok]) -> bool {
    seqs_meet(a, b, chars_meet)
}

/// Whether two single-character tokens match a common character.
fn chars_meet(a: &Tok, b: &Tok) -> bool {
    match (a, b) {
        (Tok::Lit(x), Tok::Lit(y)) => x == y,
        (Tok::Lit(c), Tok::Class { neg, ranges }) | (Tok::Class { neg, ranges }, Tok::Lit(c)) => {
            in_ranges(*c, ranges) != *neg
        }
        (
            Tok::Class {
                neg: false,
                ranges: p,
            },
            Tok::Class {
                neg: true,
                ranges: q,
            },
        )
        | (
            Tok::Class {
                neg: true,
                ranges: q,
            },
            Tok::Class {
                neg: false,
                ranges: p,
            },
        ) => p.iter().any(|&(lo, hi)| !covered(lo, hi, q)),
        (
            Tok::Class {
                neg: false,
                ranges: p,
            },
            Tok::Class {
                neg: false,
                ranges: q,
            },
        ) => p
            .iter()
            .any(|&(a, b)| q.iter().any(|&(c, d)| a <= d && c <= b)),
        // `?` and two negated classes: assumed to share a character (the
        // one conservative assumption; see the module docs).
        _ => true,
    }
}

fn in_ranges(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
}

/// Whether every character of `lo..=hi` lies in one of `ranges`.
fn covered(lo: char, hi: char, ranges: &[(char, char)]) -> bool {
    let mut c = lo as u32;
    let hi = hi as u32;
    while c <= hi {
        match ranges
            .iter()
            .filter(|&&(a, b)| (a as u32) <= c && c <= (b as u32))
            .map(|&(_, b)| b as u32)
            .max()
        {
            Some(end) => c = end + 1,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    /// The README's table (README.md, "Leases"), checked both ways round.
    pub(crate) const OVERLAPS: &[(&str, &str, bool)] = &[
        ("src/a.rs", "src/a.rs", true),
        ("src/**", "src/a.rs", true),
        ("src", "src/a.rs", true),
        ("src/*", "src/sub/b.rs", true),
        ("src/*.rs", "src/*_test.rs", true),
        ("src/*.rs", "src/*.md", false),
        ("*.md", "docs/a.md", false),
        ("**/*.md", "docs/a.md", true),
        ("src/a.rs", "src/b.rs", false),
        ("src/a.rs", "src/a.rs.bak", false),
        ("src/**/test_*.rs", "src/x/*.rs", true),
        ("src/[ab].rs", "src/c.rs", false),
        ("src/[!a].rs", "src/a.rs", false),
        ("src/[a-c]?.rs", "src/b1.rs", true),
        ("docs/*", "src/**", false),
        ("**", "anything/at/all", true),
    ];

    #[test]
    fn the_overlap_table_holds_both_ways_round() {
        for &(a, b, want) in OVERLAPS {
            assert_eq!(p(a).overlaps(&p(b)), want, "{a} vs {b}");
            assert_eq!(p(b).overlaps(&p(a)), want, "{b} vs {a}");
        }
    }

    #[test]
    fn covers_agrees_with_globset_on_concrete_paths() {
        let patterns = [
            "src/a.rs",
            "src",
            "src/*",
            "src/**",
            "src/*.rs",
            "src/*_test.rs",
            "**/*.md",
            "*.md",
            "src/[ab].rs",
            "src/[!a].rs",
            "src/?.rs",
            "**",
            "a/**/b",
            "a/**",
            "**/**",
            ".hidden/*",
        ];
        let paths = [
            "src/a.rs",
            "src/b.rs",
            "src/c.rs",
            "src/a_test.rs",
            "src/sub/b.rs",
            "src",
            "README.md",
            "docs/a.md",
            "docs/deep/x.md",
            "a/b",
            "a/x/y/b",
            "a/b/c",
            "ab",
            ".hidden/f",
            "src/a.rs.bak",
        ];
        for pat in patterns {
            let pt = p(pat);
            let mut b = globset::GlobSetBuilder::new();
            for g in pt.globs() {
                b.add(
                    globset::GlobBuilder::new(&g)
                        .literal_separator(true)
                        .backslash_escape(false)
                        .build()
                        .unwrap(),
                );
            }
            let set = b.build().unwrap();
            for path in paths {
                assert_eq!(pt.covers(path), set.is_match(path), "{pat} covers {path}?");
                let exact = p(&escape(path)).exact();
                assert_eq!(
                    pt.overlaps(&exact),
                    set.is_match(path),
                    "{pat} meets {path}?"
                );
            }
        }
    }

    #[test]
    fn user_input_is_resolved_against_the_workspace() {
        let root = Path::new("/w/ws");
        let f = |s: &str, cwd: &str| {
            from_user(s, Path::new(cwd), root)
                .map(|p| p.as_str().to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(f("src/a.rs", "/w/ws").unwrap(), "src/a.rs");
        assert_eq!(f("./a.rs", "/w/ws/src").unwrap(), "src/a.rs");
        assert_eq!(f("../docs/*.md", "/w/ws/src").unwrap(), "docs/*.md");
        assert_eq!(f("/w/ws/src/**", "/").unwrap(), "src/**");
        assert_eq!(f(".", "/w/ws").unwrap(), "**");
        assert_eq!(f("src//x/", "/w/ws").unwrap(), "src/x");
        assert!(
            f("../x", "/w/ws")
                .unwrap_err()
                .contains("outside the workspace")
        );
        assert!(f("/etc/passwd", "/w/ws").unwrap_err().contains("outside"));
        assert!(f("{a,b}", "/w/ws").unwrap_err().contains("alternation"));
        assert!(
            f("a**", "/w/ws")
                .unwrap_err()
                .contains("whole path segment")
        );
        assert!(f("src/[ab", "/w/ws").unwrap_err().contains("unclosed"));
        assert!(f("a\\b", "/w/ws").unwrap_err().contains("backslash"));
        assert!(f("", "/w/ws").unwrap_err().contains("empty"));
    }

    #[test]
    fn classes_are_exact_except_for_classes_that_match_nothing() {
        assert!(p("[a-z]").overlaps(&p("[!b-z]")));
        assert!(!p("[b-c]").overlaps(&p("[!a-z]")));
        assert!(!p("[a-c]").overlaps(&p("[x-z]")));
        assert!(p("[!a]").overlaps(&p("[!b]")));
    }
}
