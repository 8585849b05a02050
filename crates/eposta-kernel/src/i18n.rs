//! Languages of the web pages: Serbian Cyrillic (the default), Serbian Latin and English.
//!
//! Serbian is written once, in Cyrillic (`locales/sr-Cyrl.toml`); the Latin pages are derived
//! by transliteration, which for Serbian is exact, so the two scripts can never drift apart.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// A language of the user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "sr-Cyrl")]
    SrCyrl,
    #[serde(rename = "sr-Latn")]
    SrLatn,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::SrCyrl, Lang::SrLatn, Lang::En];

    /// The BCP 47 tag, also used in cookies, URLs and the database.
    pub fn code(self) -> &'static str {
        match self {
            Lang::SrCyrl => "sr-Cyrl",
            Lang::SrLatn => "sr-Latn",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
    }

    /// The language's own name, for the switcher.
    pub fn name(self) -> &'static str {
        match self {
            Lang::SrCyrl => "Ћирилица",
            Lang::SrLatn => "Latinica",
            Lang::En => "English",
        }
    }

    /// The first language of an `Accept-Language` header that we speak.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header.split(',').find_map(|part| {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            match tag.as_str() {
                "sr-latn" | "sr-latn-rs" | "sr-rs-latn" => Some(Lang::SrLatn),
                t if t == "sr" || t.starts_with("sr-") => Some(Lang::SrCyrl),
                t if t == "en" || t.starts_with("en-") => Some(Lang::En),
                _ => None,
            }
        })
    }
}

type Catalogue = HashMap<String, String>;

fn parse_catalogue(name: &str, text: &str) -> Catalogue {
    match toml_flat(text) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(catalogue = name, error = %e, "cannot read message catalogue");
            Catalogue::new()
        }
    }
}

/// The catalogues are flat TOML tables of strings; nested tables make dotted keys.
fn toml_flat(text: &str) -> Result<Catalogue, String> {
    use figment::Figment;
    use figment::providers::{Format, Toml};
    let value: figment::value::Dict = Figment::from(Toml::string(text))
        .extract()
        .map_err(|e| e.to_string())?;
    let mut out = Catalogue::new();
    flatten("", &value, &mut out);
    Ok(out)
}

fn flatten(prefix: &str, dict: &figment::value::Dict, out: &mut Catalogue) {
    for (k, v) in dict {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            figment::value::Value::Dict(_, d) => flatten(&key, d, out),
            other => {
                if let Some(s) = other.as_str() {
                    out.insert(key, s.to_owned());
                }
            }
        }
    }
}

static SR_CYRL: LazyLock<Catalogue> =
    LazyLock::new(|| parse_catalogue("sr-Cyrl", include_str!("../locales/sr-Cyrl.toml")));
static SR_LATN: LazyLock<Catalogue> = LazyLock::new(|| {
    SR_CYRL
        .iter()
        .map(|(k, v)| (k.clone(), cyrillic_to_latin(v)))
        .collect()
});
static EN: LazyLock<Catalogue> =
    LazyLock::new(|| parse_catalogue("en", include_str!("../locales/en.toml")));

fn catalogue(lang: Lang) -> &'static Catalogue {
    match lang {
        Lang::SrCyrl => &SR_CYRL,
        Lang::SrLatn => &SR_LATN,
        Lang::En => &EN,
    }
}

/// Looks up messages in one language; templates call `t.t("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The message for `key`; a missing key shows itself (and a test keeps that from shipping).
    pub fn t(&self, key: &'static str) -> &'static str {
        self.lookup(key).unwrap_or(key)
    }

    pub fn lookup(&self, key: &str) -> Option<&'static str> {
        catalogue(self.lang).get(key).map(String::as_str)
    }

    /// The message for `key` with `{name}` placeholders filled in.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.lookup(key).unwrap_or(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// Text from the database or a rule written in Cyrillic, shown in this language's script.
    pub fn script(&self, text: &str) -> String {
        match self.lang {
            Lang::SrLatn => cyrillic_to_latin(text),
            _ => text.to_owned(),
        }
    }
}

/// Every key of a catalogue, for the completeness test.
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let mut k: Vec<&str> = catalogue(lang).keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// Serbian Cyrillic to Serbian Latin (the official one-to-one correspondence; Љ, Њ and Џ
/// become the digraphs Lj, Nj and Dž, all in capitals when the next letter is a capital).
pub fn cyrillic_to_latin(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let next_upper = chars.get(i + 1).is_some_and(|n| n.is_uppercase());
        let prev_upper = i > 0 && chars[i - 1].is_uppercase();
        let shout =
            next_upper || (prev_upper && !chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        let mapped: &str = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'ђ' => "đ",
            'е' => "e",
            'ж' => "ž",
            'з' => "z",
            'и' => "i",
            'ј' => "j",
            'к' => "k",
            'л' => "l",
            'љ' => "lj",
            'м' => "m",
            'н' => "n",
            'њ' => "nj",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'ћ' => "ć",
            'у' => "u",
            'ф' => "f",
            'х' => "h",
            'ц' => "c",
            'ч' => "č",
            'џ' => "dž",
            'ш' => "š",
            'А' => "A",
            'Б' => "B",
            'В' => "V",
            'Г' => "G",
            'Д' => "D",
            'Ђ' => "Đ",
            'Е' => "E",
            'Ж' => "Ž",
            'З' => "Z",
            'И' => "I",
            'Ј' => "J",
            'К' => "K",
            'Л' => "L",
            'М' => "M",
            'Н' => "N",
            'О' => "O",
            'П' => "P",
            'Р' => "R",
            'С' => "S",
            'Т' => "T",
            'Ћ' => "Ć",
            'У' => "U",
            'Ф' => "F",
            'Х' => "H",
            'Ц' => "C",
            'Ч' => "Č",
            'Ш' => "Š",
            'Љ' => {
                if shout {
                    "LJ"
                } else {
                    "Lj"
                }
            }
            'Њ' => {
                if shout {
                    "NJ"
                } else {
                    "Nj"
                }
            }
            'Џ' => {
                if shout {
                    "DŽ"
                } else {
                    "Dž"
                }
            }
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(mapped);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_serbian() {
        let cases = [
            ("Пошта Србије", "Pošta Srbije"),
            ("Љубав, њива, џем", "Ljubav, njiva, džem"),
            ("ЉУБАВ ЊИВА ЏЕМ", "LJUBAV NJIVA DŽEM"),
            ("Џ", "Dž"),
            (
                "Ђорђе Ћуковић Чачак Жабаљ Шабац",
                "Đorđe Ćuković Čačak Žabalj Šabac",
            ),
            ("Latin stays, 123!", "Latin stays, 123!"),
        ];
        for (cyr, lat) in cases {
            assert_eq!(cyrillic_to_latin(cyr), lat, "{cyr}");
        }
    }

    #[test]
    fn catalogues_have_the_same_keys_and_no_empty_text() {
        let sr = keys(Lang::SrCyrl);
        let en = keys(Lang::En);
        assert!(!sr.is_empty());
        let missing_en: Vec<_> = sr.iter().filter(|k| !en.contains(k)).collect();
        let missing_sr: Vec<_> = en.iter().filter(|k| !sr.contains(k)).collect();
        assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
        assert!(missing_sr.is_empty(), "missing in sr-Cyrl: {missing_sr:?}");
        for lang in Lang::ALL {
            for k in keys(lang) {
                assert!(
                    !Tr::new(lang).t(k).trim().is_empty(),
                    "{k} empty in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn latin_catalogue_has_no_cyrillic_left() {
        let tr = Tr::new(Lang::SrLatn);
        for k in keys(Lang::SrLatn) {
            let text = tr.t(k);
            assert!(
                !text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
                "{k}: {text}"
            );
        }
    }

    #[test]
    fn picks_language_from_accept_language() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("sr-Latn-RS"), Some(Lang::SrLatn));
        assert_eq!(Lang::from_accept_language("sr-Latn"), Some(Lang::SrLatn));
        assert_eq!(Lang::from_accept_language("sr, en"), Some(Lang::SrCyrl));
        assert_eq!(Lang::from_accept_language("de-DE"), None);
    }
}
