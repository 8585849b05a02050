//! Table tests of the price calculation on the example tariff (band edges, option
//! combinations, rounding, maximum weights) and of the checks on tariff files.

use eposta_kernel::money::Money;

use super::*;
use crate::domain::{Options, OptionsInput, parse_item};

fn example() -> Arc<Tariff> {
    Tariff::example().expect("the example tariff is valid")
}

fn item(product: Product, weight_g: u32, options: Options) -> ItemSpec {
    ItemSpec {
        product,
        weight_g,
        options,
    }
}

fn plain(product: Product, weight_g: u32) -> ItemSpec {
    item(product, weight_g, Options::default())
}

fn cod(para: i64) -> Options {
    Options {
        cash_on_delivery: Some(Money::rsd(para)),
        ..Options::default()
    }
}

fn errors(r: Result<Quote, Vec<FieldError>>) -> Vec<(String, Rule)> {
    match r {
        Ok(q) => panic!("expected errors, got {q:?}"),
        Err(e) => e.into_iter().map(|e| (e.field, e.rule)).collect(),
    }
}

#[test]
fn the_example_is_marked_and_complete() {
    let t = example();
    assert!(t.example);
    assert!(t.name.contains("није ценовник оператора"), "{}", t.name);
    assert_eq!(t.vat_bp, 2000);
    let max: Vec<u32> = Product::ALL
        .iter()
        .map(|p| t.product(*p).expect("every product").max_weight_g())
        .collect();
    assert_eq!(max, [2000, 2000, 31500, 30000]);
    assert!(!t.allows(Product::Letter, Extra::CashOnDelivery));
    assert!(t.allows(Product::RegisteredLetter, Extra::CashOnDelivery));
    assert!(EXAMPLE.contains("THIS IS NOT THE PRICE LIST"));
}

/// (product, grams, postage in para, or the maximum the weight is over)
#[test]
fn weight_bands_at_and_just_over_their_edges() {
    let t = example();
    let rows: &[(Product, u32, Result<i64, u32>)] = &[
        (Product::Letter, 1, Ok(4_600)),
        (Product::Letter, 20, Ok(4_600)),
        (Product::Letter, 21, Ok(5_800)),
        (Product::Letter, 50, Ok(5_800)),
        (Product::Letter, 51, Ok(7_200)),
        (Product::Letter, 2_000, Ok(31_000)),
        (Product::Letter, 2_001, Err(2_000)),
        (Product::RegisteredLetter, 20, Ok(15_600)),
        (Product::RegisteredLetter, 21, Ok(16_800)),
        (Product::RegisteredLetter, 2_001, Err(2_000)),
        (Product::Parcel, 500, Ok(39_000)),
        (Product::Parcel, 501, Ok(43_000)),
        (Product::Parcel, 31_500, Ok(149_000)),
        (Product::Parcel, 31_501, Err(31_500)),
        (Product::Express, 1, Ok(52_000)),
        (Product::Express, 30_000, Ok(164_000)),
        (Product::Express, 30_001, Err(30_000)),
    ];
    for (product, grams, expected) in rows {
        let got = t.quote(&plain(*product, *grams));
        match expected {
            Ok(para) => {
                let q = got.unwrap_or_else(|e| panic!("{product} {grams} g: {e:?}"));
                assert_eq!(q.net, Money::rsd(*para), "{product} {grams} g");
                assert_eq!(q.charges.len(), 1);
                assert_eq!(q.charges[0].kind, ChargeKind::Postage);
                assert_eq!(q.vat, Money::rsd(para / 5), "20 % of {para}");
                assert_eq!(q.total, Money::rsd(para + para / 5));
            }
            Err(max) => assert_eq!(
                errors(got),
                vec![("weight_g".to_owned(), Rule::WeightOverMax(*max))],
                "{product} {grams} g"
            ),
        }
    }
}

#[test]
fn options_allowed_per_product() {
    let t = example();
    let every = |product| {
        item(
            product,
            400,
            Options {
                cash_on_delivery: Some(Money::rsd(100_000)),
                declared_value: Some(Money::rsd(200_000)),
                delivery_confirmation: true,
                sms_notice: true,
            },
        )
    };
    for product in [Product::RegisteredLetter, Product::Parcel, Product::Express] {
        let q = t.quote(&every(product)).expect("every option is offered");
        let kinds: Vec<&str> = q.charges.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "postage",
                "cash_on_delivery",
                "declared_value",
                "delivery_confirmation",
                "sms_notice"
            ]
        );
    }
    let not_for_letter = Rule::NotAllowed(Product::Letter);
    assert_eq!(
        errors(t.quote(&every(Product::Letter))),
        [
            "options.cash_on_delivery",
            "options.declared_value",
            "options.delivery_confirmation",
            "options.sms_notice"
        ]
        .map(|f| (f.to_owned(), not_for_letter.clone()))
    );
    // Every error at once: too heavy and an option it does not have.
    assert_eq!(
        errors(t.quote(&item(Product::Letter, 2_500, cod(10_000)))),
        vec![
            ("weight_g".to_owned(), Rule::WeightOverMax(2_000)),
            ("options.cash_on_delivery".to_owned(), not_for_letter),
        ]
    );
}

#[test]
fn a_registered_letter_asked_as_a_letter_costs_the_same() {
    let t = example();
    let mut errs = Vec::new();
    let asked = parse_item(
        Product::Letter,
        40,
        &OptionsInput {
            registered: true,
            cash_on_delivery: Some(Money::rsd(50_000)),
            ..OptionsInput::default()
        },
        &mut errs,
    )
    .expect("valid");
    assert_eq!(asked.product, Product::RegisteredLetter);
    assert_eq!(
        t.quote(&asked).expect("priced"),
        t.quote(&item(Product::RegisteredLetter, 40, cod(50_000)))
            .expect("priced")
    );
}

#[test]
fn amounts_over_an_options_maximum_are_refused() {
    let t = example();
    t.quote(&item(Product::Express, 100, cod(30_000_000)))
        .expect("exactly the maximum");
    assert_eq!(
        errors(t.quote(&item(Product::Express, 100, cod(30_000_001)))),
        vec![(
            "options.cash_on_delivery".to_owned(),
            Rule::AmountOverMax(Money::rsd(30_000_000))
        )]
    );
    let declared = |para| Options {
        declared_value: Some(Money::rsd(para)),
        ..Options::default()
    };
    t.quote(&item(Product::Parcel, 100, declared(100_000_000)))
        .expect("exactly the maximum");
    assert_eq!(
        errors(t.quote(&item(Product::Parcel, 100, declared(100_000_001)))),
        vec![(
            "options.declared_value".to_owned(),
            Rule::AmountOverMax(Money::rsd(100_000_000))
        )]
    );
}

/// (product, grams, options, [charges], VAT, total), every amount in para. Fees on amounts
/// and VAT are rounded half away from zero (`Money::percent`).
#[test]
fn option_fees_and_vat_round_to_the_para() {
    let t = example();
    let declared = |para| Options {
        declared_value: Some(Money::rsd(para)),
        ..Options::default()
    };
    let all = Options {
        cash_on_delivery: Some(Money::rsd(150_000)),
        declared_value: Some(Money::rsd(500_000)),
        delivery_confirmation: true,
        sms_notice: true,
    };
    let rows: Vec<(Product, u32, Options, Vec<i64>, i64, i64)> = vec![
        // 1 % of 1.500,00 = 15,00: 39.000 + 13.500 = 52.500; VAT 10.500.
        (
            Product::Parcel,
            500,
            cod(150_000),
            vec![39_000, 13_500],
            10_500,
            63_000,
        ),
        // 1 % of 1.500,50 = 15,005 → 15,01; net 52.501; VAT 10.500,2 → 10.500.
        (
            Product::Parcel,
            500,
            cod(150_050),
            vec![39_000, 13_501],
            10_500,
            63_001,
        ),
        // 1 % of 3,00 = 0,03; net 51.003; VAT 10.200,6 → 10.201.
        (
            Product::Parcel,
            500,
            cod(300),
            vec![39_000, 12_003],
            10_201,
            61_204,
        ),
        // 0,5 % of 1.234,57 = 6,17285 → 6,17; net 46.617; VAT 9.323,4 → 9.323.
        (
            Product::Parcel,
            1_000,
            declared(123_457),
            vec![43_000, 3_617],
            9_323,
            55_940,
        ),
        // 0,5 % of 0,01 = 0,00005 → 0.
        (
            Product::Express,
            500,
            declared(1),
            vec![52_000, 3_000],
            11_000,
            66_000,
        ),
        (
            Product::RegisteredLetter,
            20,
            all,
            vec![15_600, 13_500, 5_500, 9_500, 1_500],
            9_120,
            54_720,
        ),
    ];
    for (product, grams, options, charges, vat, total) in rows {
        let q = t
            .quote(&item(product, grams, options.clone()))
            .unwrap_or_else(|e| panic!("{product} {options:?}: {e:?}"));
        let got: Vec<i64> = q.charges.iter().map(|c| c.amount.minor).collect();
        assert_eq!(got, charges, "{product} {options:?}");
        assert_eq!(q.net.minor, charges.iter().sum::<i64>());
        assert_eq!(
            (q.vat.minor, q.total.minor),
            (vat, total),
            "{product} {options:?}"
        );
        assert_eq!(q.net.minor + q.vat.minor, q.total.minor);
    }
}

#[test]
fn half_a_para_of_vat_rounds_up() {
    let text = EXAMPLE
        .replace("vat_bp = 2000", "vat_bp = 1000")
        .replace("price = \"46.00\"", "price = \"10.05\"");
    let t = Tariff::parse(&text).expect("valid");
    let q = t.quote(&plain(Product::Letter, 10)).expect("priced");
    // 10 % of 10,05 is 1,005 → 1,01.
    assert_eq!(
        (q.net.minor, q.vat.minor, q.total.minor),
        (1_005, 101, 1_106)
    );
}

/// Each broken tariff is refused with a message that names the key at fault.
#[test]
fn bad_tariffs_name_the_problem() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "vat_bp = 2000",
            "vat_bp = 20000",
            "vat_bp: must be 0 to 10000",
        ),
        (
            "currency = \"RSD\"",
            "currency = \"EUR\"",
            "currency: only RSD",
        ),
        (
            "[products.express]",
            "[products.courier]",
            "products.courier: unknown product",
        ),
        (
            "{ up_to_g = 1000, price = \"430.00\" }",
            "{ up_to_g = 400, price = \"430.00\" }",
            "products.parcel.bands[1].up_to_g: must be greater than 500",
        ),
        (
            "price = \"46.00\"",
            "price = \"46,0x\"",
            "products.letter.bands[0].price: \"46,0x\" is not an amount",
        ),
        (
            "[products.letter]\noptions = []",
            "[products.letter]\noptions = [\"gift_wrap\"]",
            "products.letter.options[0]: unknown option \"gift_wrap\"",
        ),
        (
            "[options.sms_notice]\nfixed = \"15.00\"",
            "",
            "products.express.options[3]: options.sms_notice has no price",
        ),
        (
            "[options.sms_notice]\nfixed = \"15.00\"",
            "[options.sms_notice]\nfixed = \"15.00\"\npercent_bp = 100",
            "options.sms_notice: has no amount",
        ),
        (
            "percent_bp = 100",
            "percent_bp = -1",
            "options.cash_on_delivery.percent_bp: must be 0 to 10000",
        ),
        (
            "price = \"46.00\"",
            "pricee = \"46.00\"",
            "unknown field `pricee`",
        ),
        ("vat_bp = 2000", "vat_bp = \"20 %\"", "invalid type"),
    ];
    for (from, to, expected) in cases {
        assert!(EXAMPLE.contains(from), "the example has {from:?}");
        let text = EXAMPLE.replacen(from, to, 1);
        let err = Tariff::parse(&text).expect_err(expected).to_string();
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
    }
    let without_express = EXAMPLE
        .split("[products.express]")
        .next()
        .unwrap_or_default()
        .to_owned()
        + &EXAMPLE[EXAMPLE.find("# Otkupnina").expect("the options follow")..];
    let err = Tariff::parse(&without_express)
        .expect_err("incomplete")
        .to_string();
    assert_eq!(err, "products.express: is missing");
    let err = Tariff::parse("this is not = = toml").expect_err("not TOML");
    assert!(err.to_string().contains("TOML parse error"), "{err}");
}

#[test]
fn a_tariff_file_is_loaded_or_refused_by_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("good.toml");
    std::fs::write(&good, EXAMPLE.replace("example = true", "example = false")).expect("write");
    let t = Tariff::load(&good).expect("loads");
    assert!(!t.example);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, EXAMPLE.replace("vat_bp = 2000", "vat_bp = -1")).expect("write");
    let err = Tariff::load(&bad).expect_err("refused").to_string();
    assert!(err.contains("EPOSTA_POSTAL_TARIFF"), "{err}");
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("vat_bp"), "{err}");
    let missing = dir.path().join("missing.toml");
    let err = Tariff::load(&missing).expect_err("refused").to_string();
    assert!(err.contains("missing.toml"), "{err}");

    let config = Config {
        postal_tariff: Some(good.clone()),
        ..Config::default()
    };
    let configured = Tariff::configured(&config).expect("loads");
    assert!(!configured.example);
    assert!(
        Tariff::configured(&Config::default())
            .expect("example")
            .example
    );
}
