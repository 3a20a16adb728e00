//! Glob matching with `*` (any run of bytes) and `?` (one byte), optionally ASCII case-folded.
//!
//! Algorithm: Russ Cox's single-backtrack matcher ("Glob Matching Can Be Simple And Fast Too",
//! 2017). When a literal run after a `*` fails, only the most recent `*` is retried, one text
//! byte further on; earlier stars never need revisiting because a later star can absorb anything
//! they could. The restart position only moves forward, so the worst case is
//! O(|text| · |pattern|) steps — linear in the text for any pattern, whose length the format
//! caps at `Limits::max_pattern_len` — with no recursion and no allocation. Recursive
//! backtracking, by contrast, is exponential on patterns like `a*a*a*a*b`.

/// Whether `text` matches `pattern`.
#[must_use]
pub fn glob_match(pattern: &[u8], text: &[u8], fold: bool) -> bool {
    let eq = |p: u8, t: u8| p == t || (fold && p.eq_ignore_ascii_case(&t));
    // Fast rejection: the bytes before the first `*` must match the start of the text, and the
    // bytes after the last `*` its end. Both are necessary and cost at most |pattern| steps; they
    // spare the star loop below texts with the wrong extension or prefix. (On the 1,000-rule
    // benchmark it made no measurable difference: those rules already fail in their prefix.)
    if let Some(first_star) = pattern.iter().position(|&b| b == b'*') {
        let last_star = pattern
            .iter()
            .rposition(|&b| b == b'*')
            .unwrap_or(first_star);
        let head = pattern.get(..first_star).unwrap_or(&[]);
        let tail = pattern.get(last_star.saturating_add(1)..).unwrap_or(&[]);
        if head.len().saturating_add(tail.len()) > text.len() {
            return false;
        }
        let fits = |p: &[u8], t: &[u8]| p.iter().zip(t).all(|(&p, &t)| p == b'?' || eq(p, t));
        let text_tail = text
            .get(text.len().saturating_sub(tail.len())..)
            .unwrap_or(&[]);
        if !fits(head, text) || !fits(tail, text_tail) {
            return false;
        }
    }
    let mut px = 0usize;
    let mut tx = 0usize;
    // Where to resume after the most recent `*`: the pattern byte after it, and the text byte
    // after the run it currently absorbs. `None` until a `*` is seen.
    let mut restart: Option<(usize, usize)> = None;
    while px < pattern.len() || tx < text.len() {
        match (pattern.get(px), text.get(tx)) {
            (Some(b'*'), _) => {
                restart = Some((px, tx.saturating_add(1)));
                px = px.saturating_add(1);
                continue;
            }
            (Some(b'?'), Some(_)) => {
                px = px.saturating_add(1);
                tx = tx.saturating_add(1);
                continue;
            }
            (Some(&p), Some(&t)) if p != b'?' && eq(p, t) => {
                px = px.saturating_add(1);
                tx = tx.saturating_add(1);
                continue;
            }
            _ => {}
        }
        match restart {
            Some((star, next)) if next <= text.len() => {
                px = star;
                tx = next;
            }
            _ => return false,
        }
    }
    true
}

/// Whether the pattern matches every text (it is made of `*` only, and not empty).
#[must_use]
pub fn matches_everything(pattern: &[u8]) -> bool {
    !pattern.is_empty() && pattern.iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_questions_and_literals() {
        assert!(glob_match(b"*.exe", b"cmd.exe", false));
        assert!(!glob_match(b"*.exe", b"cmd.exe.txt", false));
        assert!(glob_match(b"*.EXE", b"cmd.exe", true));
        assert!(!glob_match(b"*.EXE", b"cmd.exe", false));
        assert!(glob_match(b"c?d*", b"cmd", false));
        assert!(!glob_match(b"c?d*", b"cd", false));
        assert!(glob_match(b"", b"", false));
        assert!(!glob_match(b"", b"a", false));
        assert!(glob_match(b"*", b"", false));
        assert!(glob_match(b"a*b*c", b"aXbYbZc", false));
        assert!(!glob_match(b"a*b*c", b"aXbYbZ", false));
        assert!(glob_match(b"**a**", b"bab", false));
        // `?` in the pattern is a metacharacter, also when the text holds a `?`.
        assert!(glob_match(b"?", b"?", false));
    }

    #[test]
    fn pathological_pattern_finishes() {
        // Exponential for a recursive matcher; here at most |text| * |pattern| steps.
        let pattern = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let text = vec![b'a'; 10_000];
        assert!(!glob_match(pattern, &text, false));
    }
}
