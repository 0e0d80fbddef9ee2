//! losslang: a small language for loss functions. A script is lexed and
//! parsed (`syntax`), its objectives are lowered to a differentiable
//! expression graph (`graph`), and the interpreter (`interp`) runs the
//! statements against a session, minimizing with torch.optim's algorithms
//! (`optim`) or Minuit's (`minuit`).

pub mod diagnostics;
pub mod syntax;
pub mod graph;
pub mod tensor;
pub mod optim;
pub mod interp;
pub mod minuit;
pub mod check;
pub mod repl;
pub mod plot;
