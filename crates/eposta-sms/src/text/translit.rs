//! Optional transliteration of Serbian text to letters of the GSM alphabet, so that an agency
//! can choose a cheaper GSM-7 message (issue #6; research/sms.md §1: Notify's stored main
//! turns `đ` and all Cyrillic into `?`, which ePošta never does silently).
//!
//! Two steps, each the standard one:
//! 1. Serbian Cyrillic → Serbian Latin (the official one-to-one table of the Serbian
//!    alphabets: а→a … ђ→đ, ж→ž, љ→lj, њ→nj, ћ→ć, ч→č, џ→dž, ш→š);
//! 2. Serbian Latin → "shaved" Latin (ošišana latinica), as people write SMS: č→c, ć→c,
//!    š→s, ž→z, đ→dj. So `џ` ends as `dz` (via dž) and `ђ` as `dj`.
//!
//! Capitals: `Č→C`, `Đ→Dj`, `Љ→Lj`; a capital that becomes two letters is all capitals
//! (`DJ`, `LJ`, `NJ`, `DZ`) when the next letter is a capital too, or when it ends a word
//! whose previous letter is a capital (`ĐORĐE` → `DJORDJE`, `Đorđe` → `Djordje`).
//!
//! Nothing else changes: other letters outside the GSM alphabet (`ы`, `ё`, emoji) stay, and
//! the text stays UCS-2; [`Transliteration::changes`] lists what was replaced so that a
//! preview can show it.

/// The result: the new text and what was replaced, how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transliteration {
    pub text: String,
    /// Each replaced character once, in order of first appearance.
    pub changes: Vec<Change>,
}

/// One replaced character: `from` became `to`, `count` times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub from: char,
    pub to: String,
    pub count: usize,
}

impl Transliteration {
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// The lower-case GSM letters of a Serbian letter that is not in the GSM alphabet.
fn lower(c: char) -> Option<&'static str> {
    Some(match c {
        'č' | 'ć' | 'ч' | 'ћ' | 'ц' => "c",
        'š' | 'ш' => "s",
        'ž' | 'ж' | 'з' => "z",
        'đ' | 'ђ' => "dj",
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' => "e",
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
        'у' => "u",
        'ф' => "f",
        'х' => "h",
        'џ' => "dz",
        _ => return None,
    })
}

/// Replaces Serbian letters (Cyrillic and Latin with diacritics) with GSM letters.
pub fn transliterate(text: &str) -> Transliteration {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changes: Vec<Change> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        let is_upper = c.is_uppercase();
        let low = c.to_lowercase().next().unwrap_or(c);
        let Some(rep) = lower(low) else {
            out.push(c);
            continue;
        };
        let to = if !is_upper {
            rep.to_owned()
        } else {
            let next = chars.get(i + 1).filter(|n| n.is_alphabetic());
            let prev = i
                .checked_sub(1)
                .and_then(|p| chars.get(p))
                .filter(|p| p.is_alphabetic());
            let all_caps = match next {
                Some(n) => n.is_uppercase(),
                None => prev.is_some_and(|p| p.is_uppercase()),
            };
            if all_caps {
                rep.to_uppercase()
            } else {
                let mut s = rep.to_owned();
                s[..1].make_ascii_uppercase();
                s
            }
        };
        out.push_str(&to);
        match changes.iter_mut().find(|ch| ch.from == c && ch.to == to) {
            Some(ch) => ch.count += 1,
            None => changes.push(Change {
                from: c,
                to,
                count: 1,
            }),
        }
    }
    Transliteration { text: out, changes }
}
