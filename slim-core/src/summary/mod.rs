//! TensorBoard summaries: an event-file writer (TFRecord framing with masked CRC-32C, TF's `Event` and `Summary`
//! protobuf messages) for scalars, images and histograms, readable by TensorBoard itself.

mod png;
mod proto;
mod writer;

pub use proto::{Event, HistogramProto, Image, Summary, SummaryValue};
pub use writer::SummaryWriter;
