//! Table tests of the fee calculation on the example schedule (every band edge of every
//! method, minimums and maximums, rounding) and of the checks on schedule files.

use super::*;

fn example() -> Arc<FeeSchedule> {
    FeeSchedule::example().expect("the example schedule is valid")
}

#[test]
fn the_example_is_marked_and_complete() {
    let s = example();
    assert!(s.example);
    assert!(s.name.contains("нису провизије оператора"), "{}", s.name);
    assert!(EXAMPLE.contains("THESE ARE NOT THE FEES"));
    assert_eq!(s.max_amount_para(Method::Card), 50_000_000);
    assert_eq!(s.max_amount_para(Method::Ips), MAX_AMOUNT_PARA);
    assert_eq!(s.max_amount_para(Method::Cash), 100_000_000);
}

/// (method, amount in para, fee in para, or the most the method takes)
#[test]
fn fees_at_and_just_over_every_band_edge() {
    let s = example();
    let rows: &[(Method, i64, Result<i64, i64>)] = &[
        (Method::Card, 1, Ok(2_500)),
        (Method::Card, 100_000, Ok(2_500)),
        (Method::Card, 100_001, Ok(4_000)),
        (Method::Card, 500_000, Ok(4_000)),
        (Method::Card, 500_001, Ok(6_000)),
        (Method::Card, 2_000_000, Ok(6_000)),
        // 0.5 % of 20,000.01 is 100.00005 → 100.00
        (Method::Card, 2_000_001, Ok(10_000)),
        // 0.5 % of 300,000.00 is 1,500.00, the maximum
        (Method::Card, 30_000_000, Ok(150_000)),
        (Method::Card, 30_000_001, Ok(150_000)),
        (Method::Card, 50_000_000, Ok(150_000)),
        (Method::Card, 50_000_001, Err(50_000_000)),
        (Method::Ips, 1, Ok(1_000)),
        (Method::Ips, 100_000, Ok(1_000)),
        (Method::Ips, 100_001, Ok(2_000)),
        (Method::Ips, 2_000_000, Ok(2_000)),
        // 0.1 % of 20,000.01 is 20.00001 → 20.00 (also the minimum)
        (Method::Ips, 2_000_001, Ok(2_000)),
        // 0.1 % of 25,005.00 is 25.005 → 25.01 (half away from zero)
        (Method::Ips, 2_500_500, Ok(2_501)),
        (Method::Ips, 2_500_400, Ok(2_500)),
        (Method::Ips, 50_000_000, Ok(50_000)),
        (Method::Ips, MAX_AMOUNT_PARA, Ok(50_000)),
        (Method::Ips, MAX_AMOUNT_PARA + 1, Err(MAX_AMOUNT_PARA)),
        (Method::Cash, 100_000, Ok(4_500)),
        (Method::Cash, 100_001, Ok(6_500)),
        (Method::Cash, 500_001, Ok(9_500)),
        (Method::Cash, 2_000_001, Ok(12_000)),
        (Method::Cash, 100_000_000, Ok(250_000)),
        (Method::Cash, 100_000_001, Err(100_000_000)),
    ];
    for (method, amount, expected) in rows {
        let got = s.quote(*method, *amount);
        match expected {
            Ok(fee) => {
                let q = got.unwrap_or_else(|e| panic!("{method} {amount}: {e}"));
                assert_eq!(q.fee_para, *fee, "{method} {amount}");
                assert_eq!(q.total_para(), amount + fee);
            }
            Err(max) => assert_eq!(
                got,
                Err(FieldError::new(
                    "amount",
                    Rule::AmountOverMax(Money::rsd(*max))
                )),
                "{method} {amount}"
            ),
        }
    }
}

#[test]
fn zero_and_negative_amounts_have_no_fee() {
    let s = example();
    for amount in [0, -1, i64::MIN] {
        assert_eq!(
            s.quote(Method::Card, amount),
            Err(FieldError::new("amount", Rule::Amount))
        );
    }
}

#[test]
fn bad_files_name_the_key_at_fault() {
    let ok_methods = "[methods.card]\nbands = [{ up_to = \"10.00\", fixed = \"1.00\" }]\n\
                      [methods.ips]\nbands = [{ up_to = \"10.00\" }]\n\
                      [methods.cash]\nbands = [{ up_to = \"10.00\" }]\n";
    let head = "name = \"x\"\ncurrency = \"RSD\"\n";
    assert!(FeeSchedule::parse(&format!("{head}{ok_methods}")).is_ok());
    let cases = [
        (
            format!("name = \"x\"\ncurrency = \"EUR\"\n{ok_methods}"),
            "currency",
        ),
        (
            format!("name = \" \"\ncurrency = \"RSD\"\n{ok_methods}"),
            "name",
        ),
        (
            format!(
                "{head}[methods.card]\nbands = [{{ up_to = \"10.00\" }}]\n[methods.ips]\nbands = [{{ up_to = \"10.00\" }}]\n"
            ),
            "methods.cash: is missing",
        ),
        (
            format!("{head}{ok_methods}[methods.cheque]\nbands = [{{ up_to = \"10.00\" }}]\n"),
            "methods.cheque: unknown method",
        ),
        (
            format!(
                "{head}{}",
                ok_methods.replace("fixed = \"1.00\"", "fixed = \"1,000\"")
            ),
            "methods.card.bands[0].fixed",
        ),
        (
            format!(
                "{head}{}",
                ok_methods.replace(
                    "[{ up_to = \"10.00\", fixed = \"1.00\" }]",
                    "[{ up_to = \"10.00\" }, { up_to = \"10.00\" }]",
                )
            ),
            "methods.card.bands[1].up_to: must be more than 10,00 RSD",
        ),
        (
            format!(
                "{head}{}",
                ok_methods.replace(
                    "[{ up_to = \"10.00\" }]\n[methods.cash]",
                    "[{ up_to = \"10000000.01\" }]\n[methods.cash]"
                )
            ),
            "methods.ips.bands[0].up_to: must be at most",
        ),
        (
            format!(
                "{head}{}",
                ok_methods.replace("fixed = \"1.00\"", "percent_bp = 10001")
            ),
            "methods.card.bands[0].percent_bp",
        ),
        (
            format!(
                "{head}{}",
                ok_methods.replace("fixed = \"1.00\"", "min = \"5.00\", max = \"4.00\"")
            ),
            "methods.card.bands[0].min: must not be more than max",
        ),
        (
            format!(
                "{head}{}",
                ok_methods.replace(
                    "bands = [{ up_to = \"10.00\", fixed = \"1.00\" }]",
                    "bands = []"
                )
            ),
            "methods.card.bands: needs at least one band",
        ),
        (format!("{head}{ok_methods}surprise = 1\n"), "surprise"),
    ];
    for (text, expected) in cases {
        let err = FeeSchedule::parse(&text).expect_err(expected);
        assert!(err.0.contains(expected), "{expected}: got {err}");
    }
}

#[test]
fn minimum_and_maximum_hold_the_percentage() {
    let band = Band {
        up_to_para: 1_000_000,
        fixed_para: 100,
        percent_bp: 100,
        min_para: Some(500),
        max_para: Some(2_000),
    };
    // 1 % of 100.00 is 1.00, plus 1.00 fixed = 2.00 → raised to the 5.00 minimum
    assert_eq!(band.fee(10_000), 500);
    // 1 % of 500.00 = 5.00 + 1.00 = 6.00
    assert_eq!(band.fee(50_000), 600);
    // 1 % of 10,000.00 = 100.00 + 1.00 → lowered to 20.00
    assert_eq!(band.fee(1_000_000), 2_000);
}
