//! Tests of the shared ISO 20022 pieces.
