//! Where the training and evaluation loops send their log lines: standard error, or a closure the caller gives.

/// A closure receiving log lines.
type Sink<'a> = Box<dyn FnMut(&str) + 'a>;

/// A destination for log lines.
#[derive(Default)]
pub(crate) struct LogLines<'a> {
    sink: Option<Sink<'a>>,
}

impl<'a> LogLines<'a> {
    /// Sends lines to `sink` from now on.
    pub(crate) fn redirect(&mut self, sink: impl FnMut(&str) + 'a) {
        self.sink = Some(Box::new(sink));
    }

    /// Whether lines go to a closure rather than standard error.
    pub(crate) fn is_redirected(&self) -> bool {
        self.sink.is_some()
    }

    /// Logs one line.
    pub(crate) fn say(&mut self, line: &str) {
        match &mut self.sink {
            Some(sink) => sink(line),
            None => eprintln!("{line}"),
        }
    }
}
