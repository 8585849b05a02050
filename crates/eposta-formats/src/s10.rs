//! UPU S10 item identifiers (`RA123456785RS`).
