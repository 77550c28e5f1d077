//! Reading one numeric column of a CSV file into a series with gaps.
//!
//! The format is RFC 4180: a header line, comma-separated fields, fields
//! may be double-quoted (with `""` for a quote and line breaks inside),
//! `\n` or `\r\n` line ends, an optional UTF-8 byte-order mark. Only the
//! chosen column is interpreted: an empty cell (or `NA`, `NaN` is *not*
//! accepted) is a missing value, anything else must parse as a finite
//! number, otherwise the error names the line, the row and the cell.
//! Other columns are never looked at beyond being split.

use std::io::Read;

use crate::Error;

/// The most rows [`read_series`] accepts (bounds memory on hostile input).
pub const MAX_ROWS: usize = 50_000_000;

/// A series read from a CSV column: one entry per data row, `None` where
/// the cell was empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The column's name as written in the header.
    pub column: String,
    /// The values, in row order.
    pub values: Vec<Option<f64>>,
}

/// Reads the column named `column` of the CSV in `input`.
///
/// # Errors
/// [`Error::NoColumn`] when the header lacks it; [`Error::BadValue`],
/// [`Error::ShortRow`], [`Error::NotUtf8`], [`Error::Unterminated`] with the
/// line and row of the problem; [`Error::Io`] when reading fails.
pub fn read_series<R: Read>(mut input: R, column: &str) -> Result<Series, Error> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    parse_series(&bytes, column)
}

/// Like [`read_series`] on bytes already in memory.
///
/// # Errors
/// As [`read_series`].
pub fn parse_series(bytes: &[u8], column: &str) -> Result<Series, Error> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let upto = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let line = 1 + upto.iter().filter(|&&b| b == b'\n').count();
            return Err(Error::NotUtf8 { line });
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Records {
        rest: text,
        line: 1,
    };
    let header = loop {
        match records.next_record()? {
            None => return Err(Error::Empty),
            // Blank lines before the header are skipped.
            Some((_, fields)) if fields.len() == 1 && fields.iter().all(|f| f.is_empty()) => {}
            Some((_, fields)) => break fields,
        }
    };
    let index = header
        .iter()
        .position(|h| h.trim() == column)
        .ok_or_else(|| Error::NoColumn {
            name: column.to_string(),
            columns: header.join(","),
        })?;
    let mut values = Vec::new();
    // Blank lines at the end are not rows; in a one-column file a blank
    // line elsewhere is an empty cell, i.e. a missing value.
    let mut trailing_blank = 0;
    while let Some((line, fields)) = records.next_record()? {
        let blank = fields.len() == 1 && fields.first().is_some_and(|f| f.trim().is_empty());
        if blank && header.len() > 1 {
            continue;
        }
        trailing_blank = if blank { trailing_blank + 1 } else { 0 };
        let row = values.len();
        if row >= MAX_ROWS {
            return Err(Error::TooLong { limit: MAX_ROWS });
        }
        let cell = fields.get(index).ok_or_else(|| Error::ShortRow {
            line,
            row,
            column: column.to_string(),
            need: index + 1,
            have: fields.len(),
        })?;
        values.push(parse_cell(cell).ok_or_else(|| Error::BadValue {
            line,
            row,
            column: column.to_string(),
            text: cell.chars().take(64).collect(),
        })?);
    }
    values.truncate(values.len().saturating_sub(trailing_blank));
    Ok(Series {
        column: column.to_string(),
        values,
    })
}

/// `Some(None)` for a missing value, `Some(Some(x))` for a finite number,
/// `None` for anything else (NaN and infinities included: a series with
/// them is a mistake upstream, better reported than silently dropped).
fn parse_cell(cell: &str) -> Option<Option<f64>> {
    let t = cell.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("na") || t.eq_ignore_ascii_case("null") {
        return Some(None);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Some(Some(x)),
        _ => None,
    }
}

/// An RFC 4180 record splitter over the whole text.
struct Records<'a> {
    rest: &'a str,
    line: usize,
}

impl Records<'_> {
    /// The next record and the line it starts on, `None` at the end.
    fn next_record(&mut self) -> Result<Option<(usize, Vec<String>)>, Error> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let start_line = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = self.rest.char_indices().peekable();
        let mut in_quotes = false;
        let mut consumed = self.rest.len();
        while let Some((i, c)) = chars.next() {
            if in_quotes {
                match c {
                    '"' if chars.peek().is_some_and(|&(_, n)| n == '"') => {
                        field.push('"');
                        chars.next();
                    }
                    '"' => in_quotes = false,
                    '\n' => {
                        self.line += 1;
                        field.push(c);
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.trim().is_empty() => {
                    field.clear();
                    in_quotes = true;
                }
                ',' => fields.push(std::mem::take(&mut field)),
                '\n' => {
                    self.line += 1;
                    consumed = i + 1;
                    break;
                }
                '\r' if chars.peek().is_some_and(|&(_, n)| n == '\n') => {}
                _ => field.push(c),
            }
        }
        if in_quotes {
            return Err(Error::Unterminated { line: start_line });
        }
        fields.push(field);
        self.rest = self.rest.get(consumed..).unwrap_or_default();
        Ok(Some((start_line, fields)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_value_column_with_gaps_and_ignores_others() {
        let s = parse_series(b"t,value,x\n0,1.5,a\n1,,b\n2,-3e2,\"c,d\"\n", "value").unwrap();
        assert_eq!(s.values, vec![Some(1.5), None, Some(-300.0)]);
    }

    #[test]
    fn one_column_blank_line_is_missing_but_trailing_ones_are_not() {
        let s = parse_series(b"value\n1\n\n3\n\n\n", "value").unwrap();
        assert_eq!(s.values, vec![Some(1.0), None, Some(3.0)]);
    }

    #[test]
    fn crlf_bom_quotes_and_trailing_blank_line() {
        let s = parse_series(
            "\u{feff}a,\"value\"\r\n1,\"2\"\r\n3,4\r\n\r\n".as_bytes(),
            "value",
        )
        .unwrap();
        assert_eq!(s.values, vec![Some(2.0), Some(4.0)]);
    }

    #[test]
    fn quoted_newline_keeps_line_numbers_right() {
        let e = parse_series(b"note,value\n\"two\nlines\",1\nx,oops\n", "value").unwrap_err();
        assert!(
            matches!(e, Error::BadValue { line: 4, row: 1, ref text, .. } if text == "oops"),
            "{e}"
        );
    }

    #[test]
    fn nan_inf_and_garbage_are_located_errors() {
        for bad in ["NaN", "inf", "-Infinity", "1.2.3", "12abc"] {
            let csv = format!("value\n1\n2\n{bad}\n");
            let e = parse_series(csv.as_bytes(), "value").unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::BadValue {
                        line: 4,
                        row: 2,
                        ..
                    }
                ),
                "{bad}: {e}"
            );
            assert!(e.to_string().contains("line 4"), "{e}");
        }
    }

    #[test]
    fn missing_column_short_row_unterminated_and_bad_utf8() {
        let e = parse_series(b"a,b\n1,2\n", "value").unwrap_err();
        assert!(matches!(e, Error::NoColumn { .. }), "{e}");
        let e = parse_series(b"a,value\n1,2\n3\n", "value").unwrap_err();
        assert!(
            matches!(
                e,
                Error::ShortRow {
                    line: 3,
                    row: 1,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_series(b"value\n\"1\n", "value").unwrap_err();
        assert!(matches!(e, Error::Unterminated { line: 2 }), "{e}");
        let e = parse_series(b"value\n1\n\xff\n", "value").unwrap_err();
        assert!(matches!(e, Error::NotUtf8 { line: 3 }), "{e}");
        assert!(matches!(parse_series(b"", "value"), Err(Error::Empty)));
    }
}
