//! docs/FINDINGS.md, built into the binary: the one text of what each finding code means and
//! what to do, which `chanval explain` prints and SARIF's rule descriptions carry, so neither
//! can say something the documentation does not.

use chanval::Code;

/// The code table, as published.
const FINDINGS_MD: &str = include_str!("../../docs/FINDINGS.md");

/// One row of docs/FINDINGS.md, with the section it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Documented {
    /// `error` or `warning`.
    pub severity: &'static str,
    /// The short title reports give.
    pub title: &'static str,
    /// What it means and what to do (Markdown).
    pub meaning: &'static str,
    /// The heading of the table the row is in.
    pub section: &'static str,
}

/// The row of `code` in docs/FINDINGS.md.
pub fn documented(code: Code) -> Option<Documented> {
    let mut section = "";
    for line in FINDINGS_MD.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim();
        }
        // | code | severity | title | what it means / what to do |
        let Some(row) = line.strip_prefix('|') else {
            continue;
        };
        let cells: Vec<&'static str> = row
            .trim_end()
            .trim_end_matches('|')
            .splitn(4, " | ")
            .collect();
        if let [c, severity, title, meaning] = cells.as_slice()
            && c.trim() == code.as_str()
        {
            return Some(Documented {
                severity: severity.trim(),
                title: title.trim(),
                meaning: meaning.trim(),
                section,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the library reports has its row, with the library's own severity and title.
    #[test]
    fn every_code_is_documented() {
        for &code in Code::ALL {
            let d = documented(code).unwrap_or_else(|| panic!("{} has no row", code.as_str()));
            assert_eq!(d.severity, code.severity().name(), "{}", code.as_str());
            assert_eq!(d.title, code.title(), "{}", code.as_str());
            assert!(d.meaning.len() > 20, "{}: {:?}", code.as_str(), d.meaning);
            assert!(!d.section.is_empty(), "{}", code.as_str());
        }
    }
}
