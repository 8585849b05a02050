//! Integration tests of eposta-sms against third-party SMPP peers (tests/peers).

mod smpp_node;
