//! The reference glob matcher: the textbook dynamic programme the agent's matcher is checked
//! against in tests and in the `glob` fuzz target. Obviously correct, quadratic, never for agents.

/// Reference matcher for tests and the `glob` fuzz target: the textbook dynamic programme,
/// `m[i][j]` = "the first `i` pattern bytes match the first `j` text bytes". Obviously correct,
/// quadratic in time and memory, so not for agents.
#[must_use]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // indices bounded by the loops
pub fn glob_match_reference(pattern: &[u8], text: &[u8], fold: bool) -> bool {
    let (n, m) = (pattern.len(), text.len());
    let mut table = vec![vec![false; m + 1]; n + 1];
    table[0][0] = true;
    for i in 1..=n {
        let p = pattern[i - 1];
        for j in 0..=m {
            table[i][j] = match p {
                b'*' => table[i - 1][j] || (j > 0 && table[i][j - 1]),
                _ if j == 0 => false,
                b'?' => table[i - 1][j - 1],
                _ => {
                    table[i - 1][j - 1]
                        && (p == text[j - 1] || (fold && p.eq_ignore_ascii_case(&text[j - 1])))
                }
            };
        }
    }
    table[n][m]
}

#[cfg(test)]
mod tests {
    use super::glob_match_reference;
    use chanval::glob_match;

    #[test]
    fn agrees_with_the_reference_on_every_small_case() {
        let alphabet = [b'a', b'b', b'*', b'?', b'A'];
        let mut patterns = vec![vec![]];
        for _ in 0..5 {
            let next: Vec<Vec<u8>> = patterns
                .iter()
                .flat_map(|p| alphabet.iter().map(move |&c| [p.clone(), vec![c]].concat()))
                .collect();
            patterns.extend(next.into_iter().filter(|p| p.len() <= 5));
            patterns.sort();
            patterns.dedup();
        }
        let texts: Vec<Vec<u8>> = patterns
            .iter()
            .filter(|p| !p.contains(&b'*'))
            .cloned()
            .collect();
        // The shortest texts also padded past the short-text path (64 bytes), in front and
        // behind, so the `memmem` and shift-and searches are checked as well as the direct
        // comparison (every text padded would take minutes in a debug build).
        let pad = b"abAb".repeat(20);
        for p in &patterns {
            for t in &texts {
                let padded = if t.len() <= 2 {
                    vec![
                        t.clone(),
                        [pad.as_slice(), t].concat(),
                        [t.as_slice(), &pad].concat(),
                    ]
                } else {
                    vec![t.clone()]
                };
                for t in &padded {
                    for fold in [false, true] {
                        assert_eq!(
                            glob_match(p, t, fold),
                            glob_match_reference(p, t, fold),
                            "{p:?} {t:?} {fold}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_the_reference_on_long_segments() {
        // Segments longer than one shift-and word, with `?` and case folding, in texts where
        // the segment's first 64 bytes occur many times but its rest does not.
        for n in [63usize, 64, 65, 100, 130] {
            let segment: Vec<u8> = (0..n)
                .map(|i| match i % 5 {
                    0 => b'?',
                    1 | 2 => b'a',
                    _ => b'B',
                })
                .collect();
            let pattern = [b"*".as_slice(), &segment, b"*"].concat();
            let near: Vec<u8> = segment
                .iter()
                .map(|&b| if b == b'?' { b'x' } else { b })
                .collect();
            let mut miss = near.clone();
            *miss.last_mut().unwrap() = b'z';
            let texts = [
                near.clone(),
                miss.repeat(3),
                [miss.repeat(2), near.clone()].concat(),
                near.to_ascii_lowercase(),
            ];
            for t in &texts {
                for fold in [false, true] {
                    assert_eq!(
                        glob_match(&pattern, t, fold),
                        glob_match_reference(&pattern, t, fold),
                        "n {n} {fold} {}",
                        t.escape_ascii()
                    );
                }
            }
        }
    }
}
