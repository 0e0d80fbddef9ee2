//! losslang: a small language for loss functions. A script is lexed and
//! parsed (`syntax`), its objectives are lowered to a differentiable
//! expression graph (`graph`), and the interpreter (`interp`) runs the
//! statements against a session, minimizing with torch.optim's algorithms
//! (`optim`) or Minuit's (`minuit`).

pub mod atomic;
pub mod budget;
pub mod builtins;
pub mod check;
pub mod diagnostics;
pub mod graph;
pub mod interp;
pub mod jupyter;
pub mod minuit;
pub mod optim;
pub mod plot;
pub mod repl;
pub mod syntax;
pub mod tensor;
