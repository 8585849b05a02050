//! Pure formats: no IO, no async, no database. Each format is a newtype whose only
//! constructor checks it ("parse, don't validate"), table-tested with public vectors (copied
//! into `testdata/`, with their sources) and property-tested.
//!
//! The `qr` feature adds [`qr`], which draws QR codes as SVG and PNG bytes; the `iso20022`
//! feature adds [`iso20022`], bank statements (camt.053) and remittance batches (pain.001).

pub mod account;
mod countries;
pub mod ips;
#[cfg(feature = "iso20022")]
pub mod iso20022;
pub mod jmbg;
pub mod payment_code;
#[cfg(feature = "qr")]
pub mod qr;
pub mod reference;
pub mod s10;

pub use countries::is_iso_country;
