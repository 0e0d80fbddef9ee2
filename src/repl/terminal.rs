//! The REPL on a terminal: rustyline reads each line with editing,
//! completion and highlighting (`editor`), lines are gathered until the
//! input is complete (an open bracket or a trailing operator asks for
//! more, under the `  ... ` prompt), and each complete input is added to
//! the history file before it runs, so a crash mid-run keeps it.

use std::path::{Path, PathBuf};

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{ColorMode, CompletionType, Config, Editor};

use super::{history_path, needs_more, Flow, LossHelper, Repl, CONTINUATION, PROMPT};

/// The line editor and the history file it keeps.
pub(super) struct Terminal {
    editor: Editor<LossHelper, FileHistory>,
    /// The history file, while it can still be written.
    history: Option<PathBuf>,
}

impl Terminal {
    /// A line editor (colours unless `NO_COLOR` is set) with the history
    /// loaded; an error when the terminal cannot be edited.
    pub(super) fn open() -> Result<Terminal, ReadlineError> {
        let mut editor = Editor::with_config(config())?;
        editor.set_helper(Some(LossHelper::new()));
        let history = history_path();
        if let Some(h) = &history {
            let _ = editor.load_history(h);
        }
        Ok(Terminal { editor, history })
    }

    /// Reads and runs inputs until `:quit` or Ctrl-D; returns the exit status.
    pub(super) fn run(&mut self, repl: &mut Repl) -> i32 {
        let mut pending = String::new();
        loop {
            if let Some(h) = self.editor.helper_mut() {
                h.names = repl.declared();
            }
            let prompt = if pending.is_empty() {
                PROMPT
            } else {
                CONTINUATION
            };
            match self.editor.readline(prompt) {
                Ok(line) => {
                    let Some(input) = take_complete(&mut pending, &line) else {
                        continue;
                    };
                    self.remember(&input);
                    if repl.handle(&input) == Flow::Quit {
                        break;
                    }
                }
                // Ctrl-C while typing: drop the line (and any unfinished input).
                Err(ReadlineError::Interrupted) => pending.clear(),
                Err(ReadlineError::Eof) if pending.is_empty() => break,
                Err(ReadlineError::Eof) => pending.clear(),
                Err(e) => {
                    eprintln!("error: cannot read the terminal: {e}");
                    return 1;
                }
            }
        }
        0
    }

    /// Adds a non-blank input to the history and writes the file; the
    /// first failure to write it is told once, and it is not tried again.
    fn remember(&mut self, input: &str) {
        if input.trim().is_empty() {
            return;
        }
        let _ = self.editor.add_history_entry(input);
        if let Some(h) = &self.history {
            if let Err(e) = save_history(&mut self.editor, h) {
                eprintln!("note: the history is not kept ({}: {e})", h.display());
                self.history = None;
            }
        }
    }
}

fn config() -> Config {
    let color = std::env::var_os("NO_COLOR").is_none();
    Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .color_mode(if color {
            ColorMode::Enabled
        } else {
            ColorMode::Disabled
        })
        .max_history_size(5000)
        .map(|b| b.build())
        .unwrap_or_default()
}

/// Adds `line` to the unfinished input `pending`; once that is complete,
/// takes it (leaving `pending` empty).
fn take_complete(pending: &mut String, line: &str) -> Option<String> {
    if !pending.is_empty() {
        pending.push('\n');
    }
    pending.push_str(line);
    if needs_more(pending) {
        return None;
    }
    Some(std::mem::take(pending))
}

/// Writes the history file, making its folder first.
fn save_history(editor: &mut Editor<LossHelper, FileHistory>, path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    editor.save_history(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_gathered_until_the_input_is_complete() {
        let mut pending = String::new();
        assert_eq!(take_complete(&mut pending, "let a = (1 +"), None);
        assert_eq!(take_complete(&mut pending, "  2"), None);
        assert_eq!(
            take_complete(&mut pending, ");").as_deref(),
            Some("let a = (1 +\n  2\n);")
        );
        assert!(pending.is_empty());
        assert_eq!(
            take_complete(&mut pending, ":help").as_deref(),
            Some(":help")
        );
        assert_eq!(take_complete(&mut pending, "").as_deref(), Some(""));
    }
}
