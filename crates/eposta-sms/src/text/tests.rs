use super::translit::transliterate;
use super::*;
use proptest::prelude::*;

const R8: Reference = Reference::Eight(0x2A);
const R16: Reference = Reference::Sixteen(0x1234);

#[test]
fn encoding_and_counts() {
    // (text, encoding, characters, units, segments)
    let e = "€".repeat(80);
    let cases: Vec<(String, Encoding, usize, usize, usize)> = vec![
        ("Hello".into(), Encoding::Gsm7, 5, 5, 1),
        ("".into(), Encoding::Gsm7, 0, 0, 1),
        ("a".repeat(160), Encoding::Gsm7, 160, 160, 1),
        ("a".repeat(161), Encoding::Gsm7, 161, 161, 2),
        ("a".repeat(306), Encoding::Gsm7, 306, 306, 2),
        ("a".repeat(307), Encoding::Gsm7, 307, 307, 3),
        ("a".repeat(918), Encoding::Gsm7, 918, 918, 6),
        ("^{}\\[~]|€".into(), Encoding::Gsm7, 9, 18, 1),
        ("a".repeat(159) + "€", Encoding::Gsm7, 160, 161, 2),
        (e.clone(), Encoding::Gsm7, 80, 160, 1),
        (e + "a", Encoding::Gsm7, 81, 161, 2),
        ("Café Ñandù @ 5£ ¿¡".into(), Encoding::Gsm7, 18, 18, 1),
        ("Đorđe".into(), Encoding::Ucs2, 5, 5, 1),
        ("čćšžđ".into(), Encoding::Ucs2, 5, 5, 1),
        ("Поштовани".into(), Encoding::Ucs2, 9, 9, 1),
        ("ш".repeat(70), Encoding::Ucs2, 70, 70, 1),
        ("ш".repeat(71), Encoding::Ucs2, 71, 71, 2),
        ("ш".repeat(134), Encoding::Ucs2, 134, 134, 2),
        ("ш".repeat(135), Encoding::Ucs2, 135, 135, 3),
        ("😀".into(), Encoding::Ucs2, 1, 2, 1),
        ("😀".repeat(35), Encoding::Ucs2, 35, 70, 1),
        ("😀".repeat(36), Encoding::Ucs2, 36, 72, 2),
        // 66 units then a pair: the pair would straddle 67, so it opens part 2 of 2 …
        (
            "ш".repeat(66) + "😀" + &"ш".repeat(66),
            Encoding::Ucs2,
            133,
            134,
            3,
        ),
        // … and 133 single units then a pair: 67 + 66, the pair goes to a third part.
        ("ш".repeat(133) + "😀", Encoding::Ucs2, 134, 135, 3),
        ("a\u{1B}b".into(), Encoding::Ucs2, 3, 3, 1),
    ];
    for (text, enc, chars, units, segs) in cases {
        let c = count(&text);
        assert_eq!(
            (c.encoding, c.characters, c.units, c.segments),
            (enc, chars, units, segs),
            "{text:?}"
        );
        let (e, parts) = split(&text, R8).unwrap();
        assert_eq!((e, parts.len()), (enc, segs), "split {text:?}");
    }
}

#[test]
fn non_gsm_characters_are_named() {
    assert_eq!(
        non_gsm_chars("Đorđe, ćao 😀 ćao"),
        vec!['Đ', 'đ', 'ć', '😀']
    );
    assert!(non_gsm_chars("Hello {world} €5").is_empty());
    assert_eq!(
        encode_as("ab ć", Encoding::Gsm7, R8),
        Err(TextError::NotGsm('ć'))
    );
    let msg = TextError::NotGsm('ć').to_string();
    assert!(msg.contains("'ć'") && msg.contains("UCS-2"), "{msg}");
}

#[test]
fn single_segment_bytes() {
    let (enc, parts) = split("A@{é", R8).unwrap();
    assert_eq!(enc.data_coding(), 0x00);
    assert_eq!(parts.len(), 1);
    assert!(!parts[0].has_udh);
    assert_eq!(parts[0].bytes, vec![0x41, 0x00, 0x1B, 0x28, 0x05]);
    assert_eq!(parts[0].units, 5);

    let (enc, parts) = split("Ћао 😀", R8).unwrap();
    assert_eq!(enc.data_coding(), 0x08);
    assert_eq!(
        parts[0].bytes,
        vec![
            0x04, 0x0B, 0x04, 0x30, 0x04, 0x3E, 0x00, 0x20, 0xD8, 0x3D, 0xDE, 0x00
        ]
    );
    assert_eq!(parts[0].units, 6);
}

#[test]
fn udh_with_8_and_16_bit_references() {
    let text = "a".repeat(200);
    let parts = encode_as(&text, Encoding::Gsm7, R8).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].bytes[..6], [0x05, 0x00, 0x03, 0x2A, 2, 1]);
    assert_eq!(parts[1].bytes[..6], [0x05, 0x00, 0x03, 0x2A, 2, 2]);
    assert_eq!((parts[0].units, parts[1].units), (153, 47));
    assert_eq!(parts[0].bytes.len(), 6 + 153);
    assert!(parts.iter().all(|p| p.has_udh));

    let parts = encode_as(&text, Encoding::Gsm7, R16).unwrap();
    assert_eq!(parts[0].bytes[..7], [0x06, 0x08, 0x04, 0x12, 0x34, 2, 1]);
    assert_eq!((parts[0].units, parts[1].units), (152, 48));

    let text = "ж".repeat(140);
    let parts = encode_as(&text, Encoding::Ucs2, R8).unwrap();
    assert_eq!(
        parts.iter().map(|p| p.units).collect::<Vec<_>>(),
        [67, 67, 6]
    );
    assert_eq!(parts[0].bytes.len(), 6 + 134);
    let parts = encode_as(&text, Encoding::Ucs2, R16).unwrap();
    assert_eq!(
        parts.iter().map(|p| p.units).collect::<Vec<_>>(),
        [66, 66, 8]
    );
    assert_eq!(parts[0].bytes.len(), 7 + 132);
}

#[test]
fn an_escape_pair_at_a_boundary_moves_whole() {
    // 152 septets, then € (two): it does not fit in 153, so it opens part 2.
    let text = "a".repeat(152) + "€" + &"b".repeat(10);
    let parts = encode_as(&text, Encoding::Gsm7, R8).unwrap();
    assert_eq!(parts[0].units, 152);
    assert_eq!(parts[1].text, "€bbbbbbbbbb");
    assert_eq!(parts[1].bytes[6..8], [0x1B, 0x65]);
    assert_ne!(parts[0].bytes.last(), Some(&0x1B));
}

#[test]
fn a_surrogate_pair_at_a_boundary_moves_whole() {
    let text = "ш".repeat(66) + "😀" + &"ш".repeat(10);
    let parts = encode_as(&text, Encoding::Ucs2, R8).unwrap();
    assert_eq!(parts[0].units, 66);
    assert!(parts[1].text.starts_with('😀'));
    assert_eq!(parts[1].bytes[6..10], [0xD8, 0x3D, 0xDE, 0x00]);
}

#[test]
fn too_many_segments_are_refused() {
    let text = "a".repeat(153 * 255);
    assert_eq!(
        encode_as(&text, Encoding::Gsm7, R8).map(|p| p.len()),
        Ok(255)
    );
    let text = "a".repeat(153 * 255 + 1);
    assert_eq!(split(&text, R8), Err(TextError::TooManySegments(256)));
}

#[test]
fn gsm_table_round_trips() {
    for s in 0u8..128 {
        if let Some(c) = char_of(s) {
            assert_eq!(septets(c), Some(Septets::Basic(s)), "{c:?}");
        }
    }
    assert_eq!(char_of(0x1B), None);
    for c in "^{}\\[~]|€\u{0C}".chars() {
        let Some(Septets::Extension(s)) = septets(c) else {
            panic!("{c:?} should be an extension character")
        };
        assert_eq!(extension_char_of(s), Some(c));
    }
    for c in ['`', 'ć', 'Č', 'ш', '€' /* ext, not basic */] {
        assert!(!matches!(septets(c), Some(Septets::Basic(_))), "{c:?}");
    }
}

#[test]
fn transliteration_table() {
    let cases = [
        ("čćšžđ ČĆŠŽĐ", "ccszdj CCSZDJ"),
        ("Đorđe Đurić", "Djordje Djuric"),
        ("ĐORĐE", "DJORDJE"),
        ("Ђорђе Ђурић", "Djordje Djuric"),
        ("Љубав Њива Џеп", "Ljubav Njiva Dzep"),
        ("ЉУБАВ ЊИВА ЏЕП", "LJUBAV NJIVA DZEP"),
        (
            "Поштовани, ваш пакет чека у пошти 11000.",
            "Postovani, vas paket ceka u posti 11000.",
        ),
        (
            "абвгдђежзијклљмнњопрстћуфхцчџш",
            "abvgddjezzijklljmnnjoprstcufhccdzs",
        ),
        (
            "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ",
            "ABVGDDJEZZIJKLLJMNNJOPRSTCUFHCCDZS",
        ),
        ("Hello €5 {ok}", "Hello €5 {ok}"),
        ("Ђ", "Dj"),
        ("ы ё 😀 č", "ы ё 😀 c"),
    ];
    for (input, want) in cases {
        assert_eq!(transliterate(input).text, want, "{input}");
    }
}

#[test]
fn transliteration_reports_what_changed() {
    let t = transliterate("Đorđe, čekamo vas. Đ");
    assert_eq!(t.text, "Djordje, cekamo vas. Dj");
    let got: Vec<(char, &str, usize)> = t
        .changes
        .iter()
        .map(|c| (c.from, c.to.as_str(), c.count))
        .collect();
    assert_eq!(got, vec![('Đ', "Dj", 2), ('đ', "dj", 1), ('č', "c", 1)]);
    assert!(!transliterate("plain").changed());
    // Serbian text becomes GSM-7 and cheaper: 71 Cyrillic letters, 2 segments → 1.
    let cyr = "ш".repeat(71);
    assert_eq!(count(&cyr).segments, 2);
    assert_eq!(count(&transliterate(&cyr).text).segments, 1);
    assert_eq!(count(&transliterate(&cyr).text).encoding, Encoding::Gsm7);
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,^{}\\[\\]~|€]{0,700}",
        "[a-zčćšžđЂЉЊЋЏабвгджзш €{}😀]{0,500}",
        proptest::collection::vec(any::<char>(), 0..400).prop_map(|v| v.into_iter().collect()),
    ]
}

proptest! {
    #[test]
    fn segments_join_to_the_text_and_fit(text in any_text(), r in any::<u8>(), wide in any::<bool>()) {
        let reference = if wide { Reference::Sixteen(u16::from(r) * 257) } else { Reference::Eight(r) };
        let (enc, parts) = split(&text, reference).unwrap();
        let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
        prop_assert_eq!(&joined, &text);
        let limit = if parts.len() == 1 { enc.single_limit() } else { enc.part_limit(reference) };
        let header = match (parts.len(), reference) {
            (1, _) => 0,
            (_, Reference::Eight(_)) => 6,
            (_, Reference::Sixteen(_)) => 7,
        };
        for (i, p) in parts.iter().enumerate() {
            prop_assert!(p.units <= limit);
            prop_assert!(p.bytes.len() <= 140 + 20); // unpacked GSM-7: 6 + 153 octets at most
            prop_assert_eq!(p.has_udh, parts.len() > 1);
            if header > 0 {
                prop_assert_eq!(usize::from(p.bytes[header - 2]), parts.len());
                prop_assert_eq!(usize::from(p.bytes[header - 1]), i + 1);
            }
            let body = &p.bytes[header..];
            match enc {
                Encoding::Gsm7 => {
                    prop_assert_ne!(body.last(), Some(&0x1B));
                    prop_assert_eq!(body.len(), p.units);
                }
                Encoding::Ucs2 => {
                    let units: Vec<u16> = body.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
                    let decoded = String::from_utf16(&units).ok();
                    prop_assert_eq!(decoded.as_deref(), Some(p.text.as_str()));
                }
            }
        }
        if wide {
            prop_assert_eq!(count(&text).encoding, enc);
        } else {
            prop_assert_eq!(count(&text).segments, parts.len());
        }
    }

    #[test]
    fn transliteration_only_touches_serbian_letters(text in any_text()) {
        let t = transliterate(&text);
        let gsm_before = text.chars().filter(|c| septets(*c).is_some()).count();
        let gsm_after = t.text.chars().filter(|c| septets(*c).is_some()).count();
        prop_assert!(gsm_after >= gsm_before);
        prop_assert_eq!(t.changed(), t.text != text);
    }
}
