use super::*;
use chrono::NaiveDate;

fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|x| x.and_hms_opt(h, mi, s))
        .expect("valid date")
}

#[test]
fn appendix_b_example() {
    let r = parse_text(
        "id:IIIIIIIIII sub:001 dlvrd:001 submit date:2511251042 done date:2511251043 stat:DELIVRD err:000 text:Zdravo svete",
    );
    assert_eq!(r.message_id.as_deref(), Some("IIIIIIIIII"));
    assert_eq!(r.submitted, Some(1));
    assert_eq!(r.delivered, Some(1));
    assert_eq!(r.submit_date, Some(dt(2025, 11, 25, 10, 42, 0)));
    assert_eq!(r.done_date, Some(dt(2025, 11, 25, 10, 43, 0)));
    assert_eq!(r.state, Some(MessageState::Delivered));
    assert_eq!(r.err.as_deref(), Some("000"));
    assert_eq!(r.text.as_deref(), Some("Zdravo svete"));
}

/// (text, id, state, err, text field)
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    Option<MessageState>,
    Option<&'a str>,
    Option<&'a str>,
);

#[test]
fn lenient_text_table() {
    // (text, id, state, err, text field)
    let cases: &[Case<'_>] = &[
        // any order, any case
        (
            "STAT:undeliv ERR:034 ID:0A1b sub:1 dlvrd:0",
            Some("0A1b"),
            Some(MessageState::Undeliverable),
            Some("034"),
            None,
        ),
        // missing fields
        (
            "id:42 stat:EXPIRED",
            Some("42"),
            Some(MessageState::Expired),
            None,
            None,
        ),
        (
            "stat:REJECTD",
            None,
            Some(MessageState::Rejected),
            None,
            None,
        ),
        ("", None, None, None, None),
        ("garbage without fields", None, None, None, None),
        // spaces around the colon, tabs between fields, long names
        (
            "id : 7\tstat : DELIVERED\terr:0",
            Some("7"),
            Some(MessageState::Delivered),
            Some("0"),
            None,
        ),
        // `xid:` is not `id:`; `text:` swallows what follows, even an `id:`
        (
            "xid:9 id:5 stat:ACCEPTD text:your id:77 stat:DELIVRD",
            Some("5"),
            Some(MessageState::Accepted),
            None,
            Some("your id:77 stat:DELIVRD"),
        ),
        // a repeated field keeps its first value
        (
            "id:1 id:2 stat:DELETED",
            Some("1"),
            Some(MessageState::Deleted),
            None,
            None,
        ),
        // an empty value
        (
            "id: sub:001 stat:UNKNOWN",
            None,
            Some(MessageState::Unknown),
            None,
            None,
        ),
        (
            "id:3 stat:ENROUTE",
            Some("3"),
            Some(MessageState::Enroute),
            None,
            None,
        ),
    ];
    for &(text, id, state, err, t) in cases {
        let r = parse_text(text);
        assert_eq!(r.message_id.as_deref(), id, "{text}");
        assert_eq!(r.state, state, "{text}");
        assert_eq!(r.err.as_deref(), err, "{text}");
        assert_eq!(r.text.as_deref(), t, "{text}");
    }
}

#[test]
fn unknown_stat_is_kept() {
    let r = parse_text("id:1 stat:FOO");
    assert_eq!(r.state, None);
    assert_eq!(r.unknown_stat.as_deref(), Some("FOO"));
}

#[test]
fn dates() {
    assert_eq!(parse_date("2511251042"), Some(dt(2025, 11, 25, 10, 42, 0)));
    assert_eq!(
        parse_date("251125104259"),
        Some(dt(2025, 11, 25, 10, 42, 59))
    );
    assert_eq!(parse_date("2513251042"), None);
    assert_eq!(parse_date("25112510"), None);
    assert_eq!(parse_date("25112510a2"), None);
    let r = parse_text("submit date:251125104259 done date:bad stat:DELIVRD");
    assert_eq!(r.submit_date, Some(dt(2025, 11, 25, 10, 42, 59)));
    assert_eq!(r.done_date, None);
    assert_eq!(r.state, Some(MessageState::Delivered));
}

#[test]
fn tlvs_take_precedence() {
    let text = b"id:111 stat:UNDELIV err:001";
    let r = parse(
        text,
        ReceiptTlvs {
            receipted_message_id: Some(b"ABC123\0"),
            message_state: Some(2),
        },
    );
    assert_eq!(r.message_id.as_deref(), Some("ABC123"));
    assert_eq!(r.state, Some(MessageState::Delivered));
    assert_eq!(r.err.as_deref(), Some("001"));
    // an empty TLV id or an unknown state value leaves the text's
    let r = parse(
        text,
        ReceiptTlvs {
            receipted_message_id: Some(b"\0"),
            message_state: Some(99),
        },
    );
    assert_eq!(r.message_id.as_deref(), Some("111"));
    assert_eq!(r.state, Some(MessageState::Undeliverable));
    // TLVs alone, no text
    let r = parse(
        b"",
        ReceiptTlvs {
            receipted_message_id: Some(b"77"),
            message_state: Some(1),
        },
    );
    assert_eq!(r.message_id.as_deref(), Some("77"));
    assert_eq!(r.state, Some(MessageState::Enroute));
}

#[test]
fn states_table() {
    let all = [
        ("DELIVRD", 2, true, true),
        ("EXPIRED", 3, true, false),
        ("DELETED", 4, true, false),
        ("UNDELIV", 5, true, false),
        ("ACCEPTD", 6, true, false),
        ("UNKNOWN", 7, true, false),
        ("REJECTD", 8, true, false),
        ("ENROUTE", 1, false, false),
    ];
    for (word, tlv, fin, delivered) in all {
        let s = MessageState::from_stat(word).expect(word);
        assert_eq!(MessageState::from_stat(&word.to_lowercase()), Some(s));
        assert_eq!(MessageState::from_tlv(tlv), Some(s), "{word}");
        assert_eq!(s.tlv(), tlv);
        assert_eq!(s.stat(), word);
        assert_eq!(s.is_final(), fin, "{word}");
        assert_eq!(s.is_delivered(), delivered, "{word}");
    }
    assert_eq!(MessageState::from_tlv(0), None);
    assert_eq!(MessageState::from_tlv(9), None);
    assert_eq!(MessageState::from_stat("DELIVERD"), None);
}

#[test]
fn id_matching_table() {
    use IdForm::*;
    let cases = [
        // same form, case, white space and leading zeros ignored
        ("abc123", Text, "ABC123", Text, true),
        ("000123", Text, "123", Text, true),
        (" 42 ", Text, "42", Text, true),
        ("0", Text, "000", Text, true),
        ("123", Text, "1234", Text, false),
        ("", Text, "", Text, false),
        // hex in submit_sm_resp, decimal in the receipt (and back)
        ("1A2B3C", Hex, "1715004", Decimal, true),
        ("001a2b3c", Hex, "01715004", Decimal, true),
        ("0x1a2b3c", Hex, "1715004", Decimal, true),
        ("1715004", Decimal, "1A2B3C", Hex, true),
        ("1A2B3C", Hex, "1715005", Decimal, false),
        // "10" is 16 in hex, not 10
        ("10", Hex, "10", Decimal, false),
        ("10", Hex, "16", Decimal, true),
        // not a number of the configured form
        ("xyz", Hex, "1", Decimal, false),
        ("1a", Decimal, "26", Decimal, false),
    ];
    for (a, fa, b, fb, want) in cases {
        assert_eq!(ids_match(a, fa, b, fb), want, "{a:?} {fa:?} / {b:?} {fb:?}");
    }
    assert_eq!(id_key("ffffffffffffffffffffffffffffffffff", Hex), None);
}
