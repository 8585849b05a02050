//! Pure formats: no IO, no async, no database. Each format is a newtype whose only
//! constructor checks it ("parse, don't validate"), table-tested with public vectors (copied
//! into `testdata/`, with their sources) and property-tested.

mod countries;
pub mod s10;

pub use countries::is_iso_country;
