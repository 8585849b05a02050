//! Reading the office registry's CSV file, one row at a time (docs/offices-csv.md): the header,
//! then each row checked by the same rules as the admin form, and codes that repeat within
//! the file. No database here; the service writes what this yields.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use super::domain::{self, OfficeCode, OfficeFields, OfficeInput};

/// Every column the file may have, in the documented order.
pub const COLUMNS: [&str; 8] = domain::FIELD_ORDER;
/// The columns a file must have; the others may be missing or empty.
pub const REQUIRED: [&str; 5] = ["code", "postal_code", "name", "municipality", "address"];

/// One thing wrong with a row: the column at fault, if it is one column, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Option<&'static str>,
    pub message: Cow<'static, str>,
}

/// Everything wrong with one line of the file (the line where the row starts; line 1 is the
/// header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub problems: Vec<Problem>,
}

impl RowError {
    fn one(line: u64, field: Option<&'static str>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            line,
            problems: vec![Problem {
                field,
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match p.field {
                Some(field) => write!(f, "{field} {}", p.message)?,
                None => f.write_str(&p.message)?,
            }
        }
        Ok(())
    }
}

/// What stops the reading of a file.
#[derive(Debug)]
pub enum ReadError {
    /// The header is wrong; no row can be read against it.
    Header(RowError),
    /// The file could not be read.
    Io(std::io::Error),
}

/// The rows of an office CSV file, read as they are asked for.
pub struct OfficeCsv<R: Read> {
    reader: csv::Reader<R>,
    /// For each of [`COLUMNS`], its position in the file, if the file has it.
    positions: [Option<usize>; 8],
    width: usize,
    /// Every code seen so far (packed into an integer) and the line it was on.
    seen: HashMap<u128, u64>,
    record: csv::ByteRecord,
}

impl<R: Read> OfficeCsv<R> {
    /// Reads and checks the header.
    pub fn new(input: R) -> Result<Self, ReadError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // Rows with the wrong number of fields are reported per line, not as a failure.
            .flexible(true)
            .from_reader(input);
        let mut header = csv::ByteRecord::new();
        let bad = |m: String| ReadError::Header(RowError::one(1, None, m));
        if !reader.read_byte_record(&mut header).map_err(io_error)? {
            return Err(bad("the file is empty; it needs a header row".into()));
        }
        let mut positions = [None; 8];
        for (i, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw)
                .map_err(|_| bad("the header is not valid UTF-8".into()))?
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            let Some(col) = COLUMNS.iter().position(|c| *c == name) else {
                return Err(bad(format!(
                    "unknown column \"{name}\" in the header; the columns are {}",
                    COLUMNS.join(",")
                )));
            };
            if positions[col].replace(i).is_some() {
                return Err(bad(format!(
                    "column \"{name}\" appears twice in the header"
                )));
            }
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .zip(positions)
            .filter(|(c, p)| p.is_none() && REQUIRED.contains(c))
            .map(|(c, _)| *c)
            .collect();
        if !missing.is_empty() {
            return Err(bad(format!(
                "the header lacks required column(s) {}",
                missing.join(",")
            )));
        }
        Ok(Self {
            reader,
            positions,
            width: header.len(),
            seen: HashMap::new(),
            record: csv::ByteRecord::new(),
        })
    }

    /// How far into the input reading has got, in bytes (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The next row: `None` at the end, else the office or what is wrong with its line.
    pub fn next_row(&mut self) -> Option<Result<Result<OfficeFields, RowError>, ReadError>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => Some(Ok(self.check_record())),
            Err(e) => Some(Err(io_error(e))),
        }
    }

    fn check_record(&mut self) -> Result<OfficeFields, RowError> {
        let line = self.record.position().map_or(0, csv::Position::line);
        if self.record.len() != self.width {
            return Err(RowError::one(
                line,
                None,
                format!(
                    "has {} fields where the header has {}",
                    self.record.len(),
                    self.width
                ),
            ));
        }
        let mut values: [&str; 8] = [""; 8];
        let mut problems = Vec::new();
        for (col, pos) in self.positions.iter().enumerate() {
            let Some(raw) = pos.and_then(|p| self.record.get(p)) else {
                continue;
            };
            match std::str::from_utf8(raw) {
                Ok(v) => values[col] = v,
                Err(_) => problems.push(Problem {
                    field: Some(COLUMNS[col]),
                    message: NOT_UTF8.into(),
                }),
            }
        }
        let [
            code,
            postal_code,
            name,
            municipality,
            address,
            latitude,
            longitude,
            hours,
        ] = values;
        let input = OfficeInput {
            code: code.into(),
            postal_code: postal_code.into(),
            name: name.into(),
            municipality: municipality.into(),
            address: address.into(),
            latitude: latitude.into(),
            longitude: longitude.into(),
            opening_hours: hours.into(),
        };
        // Remember every well-formed code, even on a row that is otherwise bad, so that a
        // repeat is reported however the first row fared.
        if let Ok(code) = OfficeCode::parse(&input.code) {
            let packed = code.packed();
            match self.seen.get(&packed) {
                Some(first) => problems.push(Problem {
                    field: Some("code"),
                    message: format!("{} is already on line {first}", code.as_str()).into(),
                }),
                None => {
                    self.seen.insert(packed, line);
                }
            }
        }
        match domain::parse_office(&input) {
            Ok(office) if problems.is_empty() => Ok(office),
            Ok(_) => Err(RowError { line, problems }),
            Err(errors) => {
                // A field that was not UTF-8 was read as empty; do not also call it missing.
                let bad_utf8: Vec<_> = problems
                    .iter()
                    .filter(|p| p.message == NOT_UTF8)
                    .filter_map(|p| p.field)
                    .collect();
                problems.extend(
                    errors
                        .into_iter()
                        .filter(|e| !bad_utf8.contains(&e.field))
                        .map(|e| Problem {
                            field: Some(e.field),
                            message: e.message.into(),
                        }),
                );
                problems.sort_by_key(|p| COLUMNS.iter().position(|c| Some(*c) == p.field));
                Err(RowError { line, problems })
            }
        }
    }
}

const NOT_UTF8: &str = "is not valid UTF-8 text";

fn io_error(e: csv::Error) -> ReadError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => ReadError::Io(e),
        // With byte records and flexible rows, reading fails only on I/O; say so anyway.
        other => ReadError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(csv: &str) -> Vec<Result<OfficeFields, RowError>> {
        let mut r = OfficeCsv::new(csv.as_bytes()).expect("header");
        std::iter::from_fn(|| r.next_row())
            .map(|x| x.expect("readable"))
            .collect()
    }

    fn header_error(csv: &[u8]) -> String {
        match OfficeCsv::new(csv) {
            Err(ReadError::Header(e)) => e.to_string(),
            Err(ReadError::Io(e)) => panic!("io: {e}"),
            Ok(_) => panic!("header accepted"),
        }
    }

    #[test]
    fn reads_quoted_fields_a_bom_and_columns_in_any_order() {
        let csv = "\u{feff}name,code,postal_code,municipality,address\n\
                   \"Београд 1, Главна\",11101,11101,Стари град,\"Змај Јовина \"\"17\"\"\"\n\
                   \n\
                   Novi Sad 1,21101,21101,Novi Sad,Narodnih heroja 2\n";
        let got = rows(csv);
        assert_eq!(got.len(), 2, "the blank line is skipped: {got:?}");
        let first = got[0].as_ref().expect("valid");
        assert_eq!(first.name, "Београд 1, Главна");
        assert_eq!(first.address, "Змај Јовина \"17\"");
        assert_eq!(first.latitude, None);
        assert_eq!(got[1].as_ref().expect("valid").code, "21101");
    }

    #[test]
    fn reports_the_line_of_each_bad_row() {
        let csv = "code,postal_code,name,municipality,address,latitude,longitude,opening_hours\n\
                   11101,11101,Београд 1,Стари град,Змај Јовина 17,44.8,20.4,\n\
                   11102,1110,Београд 2,Стари град,Улица 1,,,\n\
                   \"11103\",11103,\"Више\n\
                   редова\",Врачар,Улица 2,,,\n\
                   11104,11104,Београд 4\n\
                   11101,11000,Двојник,Врачар,Улица 3,,,\n\
                   11105,11105,Београд 5,Врачар,Улица 4,44.8,,\n\
                   11102,11102,Београд 2,Стари град,Улица 1,,,\n";
        let got = rows(csv);
        let errors: Vec<String> = got
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(
            errors,
            [
                "line 3: postal_code must be exactly 5 digits",
                "line 4: name is required, at most 100 characters on one line",
                "line 6: has 3 fields where the header has 8",
                "line 7: code 11101 is already on line 2",
                "line 8: longitude must be given together with latitude",
                "line 9: code 11102 is already on line 3",
            ]
        );
    }

    #[test]
    fn refuses_bad_headers_and_bad_encoding() {
        assert!(header_error(b"").contains("empty"));
        assert!(header_error(b"code,postal_code,name,municipality\n").contains("address"));
        assert!(
            header_error(b"code,postal_code,name,municipality,address,fax\n")
                .contains("unknown column \"fax\"")
        );
        assert!(
            header_error(b"code,code,postal_code,name,municipality,address\n").contains("twice")
        );
        let mut r = OfficeCsv::new(
            &b"code,postal_code,name,municipality,address\n1,11000,\xff\xfe,Beograd,Ulica 1\n"[..],
        )
        .expect("header");
        let e = r
            .next_row()
            .expect("a row")
            .expect("readable")
            .expect_err("bad");
        assert_eq!(e.to_string(), "line 2: name is not valid UTF-8 text");
    }
}
