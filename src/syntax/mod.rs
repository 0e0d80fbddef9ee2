//! Text to syntax tree: the logos lexer, the LALRPOP grammar (in
//! grammar/loss.lalrpop) and the AST. Nothing here knows about values.

pub mod ast;
pub mod error;
pub mod lexer;
pub mod parser;

pub use parser::{parse, parse_expr};
