//! slim-macros: the procedural macros of slim (`#[slim::model]`, `arg_scope!`, `repeat!`, `stack!`). They are
//! built in the next stage of the project; the run-time mechanisms they expand to live in `slim-core`.
