//! Schema extensions: admission rules on the document, and observation of every request.

mod admission;
mod observe;

pub use admission::{Admission, HttpGet};
pub use observe::Observe;
