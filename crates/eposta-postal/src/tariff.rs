//! Prices: the tariff (a TOML file; the built-in one is `tariff.example.toml`, an example and
//! not the operator's price list) and the pure calculation of an item's price from its
//! product, weight band and options, with VAT on the net total shown separately.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use eposta_kernel::Error;
use eposta_kernel::config::Config;
use eposta_kernel::money::Money;
use serde::Deserialize;

use crate::domain::{self, Extra, FieldError, ItemSpec, Product, Rule, Shipment, ShipmentInput};

/// The example tariff, built into the binary and used unless `EPOSTA_POSTAL_TARIFF` names
/// another file.
pub const EXAMPLE: &str = include_str!("../tariff.example.toml");

/// A weight band: items up to and including `up_to_g` grams cost `price` (net).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub up_to_g: u32,
    pub price: Money,
}

/// What an option costs: `fixed` plus `percent_bp` of its amount, for amounts up to
/// `max_amount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    pub fixed: Money,
    pub percent_bp: i64,
    pub max_amount: Option<Money>,
}

/// One product's prices and the options it may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductTariff {
    pub bands: Vec<Band>,
    pub extras: Vec<Extra>,
}

impl ProductTariff {
    /// The heaviest item the product takes: the last band's limit.
    pub fn max_weight_g(&self) -> u32 {
        self.bands.last().map_or(0, |b| b.up_to_g)
    }
}

/// A checked tariff: every product present, bands increasing, every option priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    pub name: String,
    /// True for the shipped example; pages then say that the prices are not real.
    pub example: bool,
    /// VAT in basis points (2000 = 20 %).
    pub vat_bp: i64,
    products: BTreeMap<Product, ProductTariff>,
    fees: BTreeMap<Extra, Fee>,
}

/// What a line of a price is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeKind {
    /// The product's price for the weight band.
    Postage,
    Extra(Extra),
}

impl ChargeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeKind::Postage => "postage",
            ChargeKind::Extra(e) => e.as_str(),
        }
    }
}

/// One line of a price, net.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub kind: ChargeKind,
    pub amount: Money,
}

/// An item's price: the lines, their net sum, VAT on it, and the total to pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub charges: Vec<Charge>,
    pub net: Money,
    pub vat: Money,
    pub total: Money,
    pub vat_bp: i64,
}

/// Why a tariff file cannot be used; the text names the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TariffError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTariff {
    name: String,
    #[serde(default)]
    example: bool,
    currency: String,
    vat_bp: i64,
    products: BTreeMap<String, RawProduct>,
    #[serde(default)]
    options: BTreeMap<String, RawFee>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    bands: Vec<RawBand>,
    #[serde(default)]
    options: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    up_to_g: u32,
    price: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFee {
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    percent_bp: i64,
    #[serde(default)]
    max_amount: Option<String>,
}

fn bad(key: impl std::fmt::Display, why: impl std::fmt::Display) -> TariffError {
    TariffError(format!("{key}: {why}"))
}

fn amount(key: &str, text: &str) -> Result<Money, TariffError> {
    match domain::parse_dinars(text) {
        Ok(Some(m)) => Ok(m),
        _ => Err(bad(
            key,
            format_args!("{text:?} is not an amount in dinars like \"46.00\""),
        )),
    }
}

fn basis_points(key: &str, bp: i64) -> Result<i64, TariffError> {
    if (0..=10_000).contains(&bp) {
        Ok(bp)
    } else {
        Err(bad(key, "must be 0 to 10000 (basis points: 2000 = 20 %)"))
    }
}

impl Tariff {
    /// Reads and checks a tariff in the format of `tariff.example.toml`.
    pub fn parse(text: &str) -> Result<Tariff, TariffError> {
        let raw: RawTariff = toml::from_str(text).map_err(|e| TariffError(e.to_string()))?;
        if raw.currency != "RSD" {
            return Err(bad("currency", "only RSD is supported"));
        }
        if raw.name.trim().is_empty() {
            return Err(bad("name", "must not be empty"));
        }
        let vat_bp = basis_points("vat_bp", raw.vat_bp)?;
        let mut fees = BTreeMap::new();
        for (name, f) in &raw.options {
            let key = format!("options.{name}");
            let extra = Extra::parse(name).ok_or_else(|| {
                bad(
                    &key,
                    "unknown option (cash_on_delivery, declared_value, delivery_confirmation, sms_notice)",
                )
            })?;
            let fee = Fee {
                fixed: match &f.fixed {
                    Some(t) => amount(&format!("{key}.fixed"), t)?,
                    None => Money::rsd(0),
                },
                percent_bp: basis_points(&format!("{key}.percent_bp"), f.percent_bp)?,
                max_amount: match &f.max_amount {
                    Some(t) => Some(amount(&format!("{key}.max_amount"), t)?),
                    None => None,
                },
            };
            let has_amount = matches!(extra, Extra::CashOnDelivery | Extra::DeclaredValue);
            if !has_amount && (fee.percent_bp != 0 || fee.max_amount.is_some()) {
                return Err(bad(
                    &key,
                    "has no amount, so percent_bp and max_amount do not apply",
                ));
            }
            fees.insert(extra, fee);
        }
        let mut products = BTreeMap::new();
        for (name, p) in &raw.products {
            let key = format!("products.{name}");
            let product = Product::parse(name).ok_or_else(|| {
                bad(
                    &key,
                    "unknown product (letter, registered_letter, parcel, express)",
                )
            })?;
            products.insert(product, product_tariff(&key, p, &fees)?);
        }
        if let Some(missing) = Product::ALL.iter().find(|p| !products.contains_key(p)) {
            return Err(bad(format!("products.{missing}"), "is missing"));
        }
        Ok(Tariff {
            name: raw.name.trim().to_owned(),
            example: raw.example,
            vat_bp,
            products,
            fees,
        })
    }

    /// Reads and checks a tariff file; the error names the file and the problem.
    pub fn load(path: &Path) -> Result<Tariff, Error> {
        let place = format!("EPOSTA_POSTAL_TARIFF {}", path.display());
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::Config(format!("{place}: {e}")))?;
        Tariff::parse(&text).map_err(|e| Error::Config(format!("{place}: {e}")))
    }

    /// The built-in example.
    pub fn example() -> Result<Arc<Tariff>, Error> {
        static PARSED: LazyLock<Result<Arc<Tariff>, TariffError>> =
            LazyLock::new(|| Tariff::parse(EXAMPLE).map(Arc::new));
        (*PARSED)
            .clone()
            .map_err(|e| Error::Config(format!("the built-in example tariff: {e}")))
    }

    /// The tariff the configuration names (read once per file and process), or the example.
    /// `serve` calls this before anything else, so a bad file stops start-up.
    pub fn configured(config: &Config) -> Result<Arc<Tariff>, Error> {
        static LOADED: LazyLock<Mutex<HashMap<PathBuf, Arc<Tariff>>>> =
            LazyLock::new(Mutex::default);
        let Some(path) = &config.postal_tariff else {
            return Tariff::example();
        };
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = loaded.get(path) {
            return Ok(t.clone());
        }
        let t = Arc::new(Tariff::load(path)?);
        loaded.insert(path.clone(), t.clone());
        Ok(t)
    }

    pub fn product(&self, p: Product) -> Option<&ProductTariff> {
        self.products.get(&p)
    }

    /// Whether the product may have the option.
    pub fn allows(&self, p: Product, e: Extra) -> bool {
        self.product(p).is_some_and(|t| t.extras.contains(&e))
    }

    /// Checks a whole shipment and prices it: every broken rule at once, those of the
    /// addresses and those of the tariff alike, or the valid shipment and its price.
    pub fn check(&self, input: &ShipmentInput) -> Result<(Shipment, Quote), Vec<FieldError>> {
        // The item is read once more on its own so that the tariff's rules (weight, options
        // per product) are reported even when an address is wrong too.
        let item = domain::parse_item(
            input.product,
            input.weight_g,
            &input.options,
            &mut Vec::new(),
        );
        let priced = item.map(|i| self.quote(&i));
        match (domain::parse_shipment(input), priced) {
            (Ok(s), Some(Ok(q))) => Ok((s, q)),
            (Ok(_), Some(Err(e))) => Err(e),
            (Err(mut e), Some(Err(more))) => {
                e.extend(more);
                Err(e)
            }
            (Err(e), _) => Err(e),
            (Ok(_), None) => Err(vec![FieldError::new("weight_g", Rule::Weight)]),
        }
    }

    /// The price of an item, or every tariff rule it breaks: over the product's maximum
    /// weight, an option the product does not offer, an amount over an option's maximum.
    pub fn quote(&self, item: &ItemSpec) -> Result<Quote, Vec<FieldError>> {
        let mut errors = Vec::new();
        let Some(pt) = self.product(item.product) else {
            return Err(vec![FieldError::new("product", Rule::Product)]);
        };
        let band = pt.bands.iter().find(|b| item.weight_g <= b.up_to_g);
        if band.is_none() {
            errors.push(FieldError::new(
                "weight_g",
                Rule::WeightOverMax(pt.max_weight_g()),
            ));
        }
        let mut charges: Vec<Charge> = band
            .map(|b| Charge {
                kind: ChargeKind::Postage,
                amount: b.price,
            })
            .into_iter()
            .collect();
        let o = &item.options;
        for extra in o.extras() {
            let field = extra.field();
            let fee = match self.fees.get(&extra) {
                Some(fee) if pt.extras.contains(&extra) => fee,
                _ => {
                    errors.push(FieldError::new(field, Rule::NotAllowed(item.product)));
                    continue;
                }
            };
            let based_on = match extra {
                Extra::CashOnDelivery => o.cash_on_delivery,
                Extra::DeclaredValue => o.declared_value,
                Extra::DeliveryConfirmation | Extra::SmsNotice => None,
            };
            if let (Some(a), Some(max)) = (based_on, fee.max_amount)
                && a.minor > max.minor
            {
                errors.push(FieldError::new(field, Rule::AmountOverMax(max)));
                continue;
            }
            let variable = match based_on {
                Some(a) => a.percent(fee.percent_bp),
                None => Ok(Money::rsd(0)),
            };
            match variable.and_then(|v| v.checked_add(fee.fixed)) {
                Ok(amount) => charges.push(Charge {
                    kind: ChargeKind::Extra(extra),
                    amount,
                }),
                Err(_) => errors.push(FieldError::new(field, Rule::Amount)),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let sum = charges
            .iter()
            .try_fold(Money::rsd(0), |acc, c| acc.checked_add(c.amount));
        let priced = sum.and_then(|net| {
            let vat = net.percent(self.vat_bp)?;
            Ok((net, vat, net.checked_add(vat)?))
        });
        match priced {
            Ok((net, vat, total)) => Ok(Quote {
                charges,
                net,
                vat,
                total,
                vat_bp: self.vat_bp,
            }),
            Err(_) => Err(vec![FieldError::new("options", Rule::Amount)]),
        }
    }
}

fn product_tariff(
    key: &str,
    p: &RawProduct,
    fees: &BTreeMap<Extra, Fee>,
) -> Result<ProductTariff, TariffError> {
    if p.bands.is_empty() {
        return Err(bad(format!("{key}.bands"), "needs at least one band"));
    }
    let mut bands: Vec<Band> = Vec::with_capacity(p.bands.len());
    for (i, b) in p.bands.iter().enumerate() {
        let bkey = format!("{key}.bands[{i}]");
        let after = bands.last().map_or(0, |last| last.up_to_g);
        if b.up_to_g <= after {
            return Err(bad(
                format!("{bkey}.up_to_g"),
                format_args!("must be greater than {after} (bands go from light to heavy)"),
            ));
        }
        bands.push(Band {
            up_to_g: b.up_to_g,
            price: amount(&format!("{bkey}.price"), &b.price)?,
        });
    }
    let mut extras = Vec::new();
    for (i, name) in p.options.iter().enumerate() {
        let okey = format!("{key}.options[{i}]");
        let extra = Extra::parse(name)
            .ok_or_else(|| bad(&okey, format_args!("unknown option {name:?}")))?;
        if !fees.contains_key(&extra) {
            return Err(bad(&okey, format_args!("options.{name} has no price")));
        }
        if !extras.contains(&extra) {
            extras.push(extra);
        }
    }
    Ok(ProductTariff { bands, extras })
}

#[cfg(test)]
mod tests;
