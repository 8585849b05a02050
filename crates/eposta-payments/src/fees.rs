//! Fees: the schedule (a TOML file; the built-in one is `fees.example.toml`, an example and
//! not the operator's fees) and the pure calculation of a payment's fee from its method and
//! the amount's band.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use eposta_kernel::Error;
use eposta_kernel::config::Config;
use eposta_kernel::money::Money;
use serde::Deserialize;

use crate::domain::{FieldError, MAX_AMOUNT_PARA, Method, Rule};

/// The example schedule, built into the binary and used unless `EPOSTA_PAYMENTS_FEES` names
/// another file.
pub const EXAMPLE: &str = include_str!("../fees.example.toml");

/// An amount band: payments up to and including `up_to_para` pay `fixed_para` plus
/// `percent_bp` of the amount, held between `min_para` and `max_para`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub up_to_para: i64,
    pub fixed_para: i64,
    pub percent_bp: i64,
    pub min_para: Option<i64>,
    pub max_para: Option<i64>,
}

impl Band {
    /// The fee of `amount_para` in this band.
    pub fn fee(&self, amount_para: i64) -> i64 {
        let variable = Money::rsd(amount_para)
            .percent(self.percent_bp)
            .map_or(i64::MAX, |m| m.minor);
        let mut fee = self.fixed_para.saturating_add(variable);
        if let Some(min) = self.min_para {
            fee = fee.max(min);
        }
        if let Some(max) = self.max_para {
            fee = fee.min(max);
        }
        fee
    }
}

/// A checked schedule: a band list for every method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeSchedule {
    pub name: String,
    /// True for the shipped example; pages then say that the fees are not real.
    pub example: bool,
    methods: BTreeMap<&'static str, Vec<Band>>,
}

/// A payment's fee and what it comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeQuote {
    pub amount_para: i64,
    pub fee_para: i64,
}

impl FeeQuote {
    /// What the payer pays: the amount and the fee.
    pub fn total_para(&self) -> i64 {
        self.amount_para + self.fee_para
    }
}

/// Why a schedule file cannot be used; the text names the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FeeError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    name: String,
    #[serde(default)]
    example: bool,
    currency: String,
    methods: BTreeMap<String, RawMethod>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMethod {
    bands: Vec<RawBand>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    up_to: String,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    percent_bp: i64,
    #[serde(default)]
    min: Option<String>,
    #[serde(default)]
    max: Option<String>,
}

fn bad(key: impl std::fmt::Display, why: impl std::fmt::Display) -> FeeError {
    FeeError(format!("{key}: {why}"))
}

fn amount(key: &str, text: &str) -> Result<i64, FeeError> {
    match crate::domain::order::parse_dinars(text) {
        Ok(Some(para)) => Ok(para),
        _ => Err(bad(
            key,
            format_args!("{text:?} is not an amount in dinars like \"25.00\""),
        )),
    }
}

fn optional(key: &str, text: Option<&String>) -> Result<Option<i64>, FeeError> {
    text.map(|t| amount(key, t)).transpose()
}

impl FeeSchedule {
    /// Reads and checks a schedule in the format of `fees.example.toml`.
    pub fn parse(text: &str) -> Result<FeeSchedule, FeeError> {
        let raw: RawSchedule = toml::from_str(text).map_err(|e| FeeError(e.to_string()))?;
        if raw.currency != "RSD" {
            return Err(bad("currency", "only RSD is supported"));
        }
        if raw.name.trim().is_empty() {
            return Err(bad("name", "must not be empty"));
        }
        let mut methods = BTreeMap::new();
        for (name, m) in &raw.methods {
            let key = format!("methods.{name}");
            let method =
                Method::parse(name).ok_or_else(|| bad(&key, "unknown method (card, ips, cash)"))?;
            methods.insert(method.as_str(), bands(&key, &m.bands)?);
        }
        if let Some(missing) = Method::ALL
            .iter()
            .find(|m| !methods.contains_key(m.as_str()))
        {
            return Err(bad(format!("methods.{missing}"), "is missing"));
        }
        Ok(FeeSchedule {
            name: raw.name.trim().to_owned(),
            example: raw.example,
            methods,
        })
    }

    /// Reads and checks a schedule file; the error names the file and the problem.
    pub fn load(path: &Path) -> Result<FeeSchedule, Error> {
        let place = format!("EPOSTA_PAYMENTS_FEES {}", path.display());
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::Config(format!("{place}: {e}")))?;
        FeeSchedule::parse(&text).map_err(|e| Error::Config(format!("{place}: {e}")))
    }

    /// The built-in example.
    pub fn example() -> Result<Arc<FeeSchedule>, Error> {
        static PARSED: LazyLock<Result<Arc<FeeSchedule>, FeeError>> =
            LazyLock::new(|| FeeSchedule::parse(EXAMPLE).map(Arc::new));
        (*PARSED)
            .clone()
            .map_err(|e| Error::Config(format!("the built-in example fee schedule: {e}")))
    }

    /// The schedule the configuration names (read once per file and process), or the
    /// example. `serve` calls this before anything else, so a bad file stops start-up.
    pub fn configured(config: &Config) -> Result<Arc<FeeSchedule>, Error> {
        static LOADED: LazyLock<Mutex<HashMap<PathBuf, Arc<FeeSchedule>>>> =
            LazyLock::new(Mutex::default);
        let Some(path) = &config.payments_fees else {
            return FeeSchedule::example();
        };
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = loaded.get(path) {
            return Ok(s.clone());
        }
        let s = Arc::new(FeeSchedule::load(path)?);
        loaded.insert(path.clone(), s.clone());
        Ok(s)
    }

    /// A method's bands, from the smallest amounts up.
    pub fn bands(&self, method: Method) -> &[Band] {
        self.methods.get(method.as_str()).map_or(&[], Vec::as_slice)
    }

    /// The most one payment by `method` may be: its last band's limit.
    pub fn max_amount_para(&self, method: Method) -> i64 {
        self.bands(method).last().map_or(0, |b| b.up_to_para)
    }

    /// The fee of paying `amount_para` by `method`, or the rule the amount breaks (over the
    /// method's most, named as the field `amount`).
    pub fn quote(&self, method: Method, amount_para: i64) -> Result<FeeQuote, FieldError> {
        if amount_para <= 0 {
            return Err(FieldError::new("amount", Rule::Amount));
        }
        match self
            .bands(method)
            .iter()
            .find(|b| amount_para <= b.up_to_para)
        {
            Some(band) => Ok(FeeQuote {
                amount_para,
                fee_para: band.fee(amount_para),
            }),
            None => Err(FieldError::new(
                "amount",
                Rule::AmountOverMax(Money::rsd(self.max_amount_para(method))),
            )),
        }
    }
}

fn basis_points(key: &str, bp: i64) -> Result<i64, FeeError> {
    if (0..=10_000).contains(&bp) {
        Ok(bp)
    } else {
        Err(bad(key, "must be 0 to 10000 (basis points: 100 = 1 %)"))
    }
}

fn bands(key: &str, raw: &[RawBand]) -> Result<Vec<Band>, FeeError> {
    if raw.is_empty() {
        return Err(bad(format!("{key}.bands"), "needs at least one band"));
    }
    let mut out: Vec<Band> = Vec::with_capacity(raw.len());
    for (i, b) in raw.iter().enumerate() {
        let bkey = format!("{key}.bands[{i}]");
        let after = out.last().map_or(0, |last| last.up_to_para);
        let up_to_para = amount(&format!("{bkey}.up_to"), &b.up_to)?;
        if up_to_para <= after {
            return Err(bad(
                format!("{bkey}.up_to"),
                format_args!(
                    "must be more than {} (bands go from small amounts to large)",
                    Money::rsd(after)
                ),
            ));
        }
        if up_to_para > MAX_AMOUNT_PARA {
            return Err(bad(
                format!("{bkey}.up_to"),
                format_args!(
                    "must be at most {}, the most any payment may be",
                    Money::rsd(MAX_AMOUNT_PARA)
                ),
            ));
        }
        let band = Band {
            up_to_para,
            fixed_para: optional(&format!("{bkey}.fixed"), b.fixed.as_ref())?.unwrap_or(0),
            percent_bp: basis_points(&format!("{bkey}.percent_bp"), b.percent_bp)?,
            min_para: optional(&format!("{bkey}.min"), b.min.as_ref())?,
            max_para: optional(&format!("{bkey}.max"), b.max.as_ref())?,
        };
        if let (Some(min), Some(max)) = (band.min_para, band.max_para)
            && min > max
        {
            return Err(bad(format!("{bkey}.min"), "must not be more than max"));
        }
        out.push(band);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
