//! The box-drawn tables of a text report, as refcheck.py reads them:
//! `boxes` cuts a report into its tables, `masked` hides the numbers (and
//! the padding they need) so that labels, flags and shapes can be compared.

/// refcheck.py's `boxes`: the box-drawn tables of a text report.
pub fn boxes(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<String>> = None;
    for line in text.lines() {
        let line = line.trim_end().to_string();
        if line.starts_with('┌') {
            cur = Some(vec![line]);
        } else if let Some(c) = cur.as_mut() {
            let end = line.starts_with('└');
            c.push(line);
            if end {
                out.push(cur.take().unwrap_or_default());
            }
        }
    }
    out
}

/// refcheck.py's `masked`: numbers as `#`, runs of rule characters and of
/// white space collapsed.
pub fn masked(block: &[String]) -> Vec<String> {
    block
        .iter()
        .map(|l| {
            let mut out = String::new();
            let cs: Vec<char> = l.chars().collect();
            let mut i = 0;
            while i < cs.len() {
                let c = cs[i];
                let starts_num = c.is_ascii_digit()
                    || (c == '-' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit()));
                if starts_num {
                    i += 1;
                    while i < cs.len() && cs[i].is_ascii_digit() {
                        i += 1;
                    }
                    if cs.get(i) == Some(&'.') && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                    {
                        i += 1;
                        while i < cs.len() && cs[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                    if cs.get(i) == Some(&'e') {
                        let mut j = i + 1;
                        if matches!(cs.get(j), Some('-') | Some('+')) {
                            j += 1;
                        }
                        if cs.get(j).is_some_and(|d| d.is_ascii_digit()) {
                            i = j;
                            while i < cs.len() && cs[i].is_ascii_digit() {
                                i += 1;
                            }
                        }
                    }
                    out.push('#');
                    continue;
                }
                if c == '─' {
                    while cs.get(i) == Some(&'─') {
                        i += 1;
                    }
                    out.push('─');
                    continue;
                }
                if c.is_whitespace() {
                    while cs.get(i).is_some_and(|d| d.is_whitespace()) {
                        i += 1;
                    }
                    out.push(' ');
                    continue;
                }
                out.push(c);
                i += 1;
            }
            out.trim().to_string()
        })
        .collect()
}
