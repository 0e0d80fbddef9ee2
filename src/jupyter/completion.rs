//! The editing help a notebook asks for while a cell is typed: completion
//! (the REPL's Tab), whether a cell is complete (the REPL's continuation
//! rule, which Jupyter console uses on Enter) and the input history. Each
//! is the REPL's own logic; this module only converts between the
//! protocol's code-point cursor positions and Rust's byte offsets.

use crate::interp::Session;
use crate::repl::{needs_more, with_semicolon, LossHelper};
use serde_json::{json, Value};

/// Byte offset of code point `chars` in `s` (the end when past it).
fn byte_at(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}

/// Code points in `s[..byte]`.
fn chars_to(s: &str, byte: usize) -> usize {
    s[..byte].chars().count()
}

/// The names a session has declared (parameters, lets, fns).
pub fn declared(session: &Session) -> Vec<String> {
    let mut v: Vec<String> = session.params.iter().map(|p| p.name.clone()).collect();
    v.extend(session.defs.keys().cloned());
    v.sort();
    v
}

/// The `complete_reply` for `code` with the cursor at code point `cursor`.
pub fn complete(session: &Session, code: &str, cursor: usize) -> Value {
    let pos = byte_at(code, cursor);
    let mut helper = LossHelper::new();
    helper.names = declared(session);
    let (start, candidates) = helper.candidates(code, pos);
    let mut matches: Vec<String> = Vec::with_capacity(candidates.len());
    for (_, replacement) in candidates {
        if !matches.contains(&replacement) {
            matches.push(replacement);
        }
    }
    json!({
        "status": "ok",
        "matches": matches,
        "cursor_start": chars_to(code, start),
        "cursor_end": chars_to(code, pos),
        "metadata": {},
    })
}

/// The `is_complete_reply`: "incomplete" while brackets are open (the REPL
/// would show its continuation prompt), "invalid" when the input cannot
/// parse however it goes on, else "complete".
pub fn is_complete(code: &str) -> Value {
    if needs_more(code) {
        return json!({"status": "incomplete", "indent": ""});
    }
    let status = match with_semicolon(code) {
        Some(src) if crate::syntax::parse(&src).is_err() => "invalid",
        _ => "complete",
    };
    json!({"status": status})
}

/// Whether `text` matches a glob `pattern` (`*` any run, `?` one character),
/// as IPython's history search does.
fn glob(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|k| glob(rest, &text[k..])),
        Some(('?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

/// The `history_reply`: `tail`, `range` and `search` over this kernel's
/// cells (session number 0, the current one, as IPython numbers it).
pub fn history(cells: &[(u64, String)], request: &Value) -> Value {
    let access = request["hist_access_type"].as_str().unwrap_or("tail");
    let n = request["n"].as_u64().map(|n| n as usize);
    let picked: Vec<&(u64, String)> = match access {
        "range" => {
            let start = request["start"].as_u64().unwrap_or(1);
            let stop = request["stop"].as_u64().unwrap_or(u64::MAX);
            cells
                .iter()
                .filter(|(k, _)| *k >= start && *k < stop)
                .collect()
        }
        "search" => {
            let pattern: Vec<char> = request["pattern"].as_str().unwrap_or("*").chars().collect();
            let unique = request["unique"].as_bool().unwrap_or(false);
            let mut hits: Vec<&(u64, String)> = Vec::new();
            for cell in cells.iter().rev() {
                let text: Vec<char> = cell.1.chars().collect();
                if glob(&pattern, &text) && !(unique && hits.iter().any(|h| h.1 == cell.1)) {
                    hits.push(cell);
                }
            }
            hits.reverse();
            let keep = n.unwrap_or(hits.len()).min(hits.len());
            hits.split_off(hits.len() - keep)
        }
        _ => {
            let keep = n.unwrap_or(cells.len()).min(cells.len());
            cells[cells.len() - keep..].iter().collect()
        }
    };
    let history: Vec<Value> = picked.iter().map(|(k, code)| json!([0, k, code])).collect();
    json!({"status": "ok", "history": history})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Options;

    fn session(src: &str) -> Session {
        let mut s = Session::new(
            Options {
                repl: true,
                ..Options::default()
            },
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        );
        assert_eq!(s.run_more("<test>", src), crate::interp::Outcome::Ok);
        s
    }

    #[test]
    fn completes_optimizers_after_with_and_declared_names() {
        let s = session("param xi = 1;");
        let code = "minimize x with ad";
        let r = complete(&s, code, code.len());
        let m: Vec<&str> = r["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            m.contains(&"adam") && m.contains(&"adamw") && m.contains(&"adagrad"),
            "{m:?}"
        );
        assert!(!m.contains(&"abs"));
        assert_eq!(r["cursor_start"], 16);
        assert_eq!(r["cursor_end"], 18);
        let r = complete(&s, "print x", 7);
        assert!(r["matches"].as_array().unwrap().contains(&json!("xi")));
        let r = complete(&s, "minimize xi^2 with adam(l", 25);
        assert!(r["matches"].as_array().unwrap().contains(&json!("lr=")));
    }

    #[test]
    fn cursor_positions_count_code_points() {
        let s = session("param x = 1;");
        // "é" is two bytes but one code point.
        let code = "print \"é\", si";
        let r = complete(&s, code, code.chars().count());
        assert_eq!(r["cursor_start"], 11);
        assert_eq!(r["cursor_end"], 13);
        assert!(r["matches"].as_array().unwrap().contains(&json!("sin")));
    }

    #[test]
    fn is_complete_follows_the_repl() {
        assert_eq!(is_complete("let s = [1,")["status"], "incomplete");
        assert_eq!(is_complete("print (1 +\n2)")["status"], "complete");
        assert_eq!(is_complete("param x = 1")["status"], "complete");
        assert_eq!(is_complete("print 1 +* ;")["status"], "invalid");
        assert_eq!(is_complete("# only a comment")["status"], "complete");
    }

    #[test]
    fn history_tail_range_and_search() {
        let cells: Vec<(u64, String)> = vec![
            (1, "param x = 1;".into()),
            (2, "minimize x^2;".into()),
            (3, "print x;".into()),
            (4, "minimize (x-1)^2;".into()),
        ];
        let h = history(&cells, &json!({"hist_access_type": "tail", "n": 2}));
        assert_eq!(
            h["history"],
            json!([[0, 3, "print x;"], [0, 4, "minimize (x-1)^2;"]])
        );
        let h = history(
            &cells,
            &json!({"hist_access_type": "range", "start": 2, "stop": 3}),
        );
        assert_eq!(h["history"], json!([[0, 2, "minimize x^2;"]]));
        let h = history(
            &cells,
            &json!({"hist_access_type": "search", "pattern": "minimize*"}),
        );
        assert_eq!(h["history"].as_array().unwrap().len(), 2);
        let h = history(
            &cells,
            &json!({"hist_access_type": "search", "pattern": "pr?nt*", "n": 5}),
        );
        assert_eq!(h["history"], json!([[0, 3, "print x;"]]));
    }
}
