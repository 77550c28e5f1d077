//! The one error type of depeer-analysis. Every variant says where: the
//! 1-based line of the CSV and the column, so a bad cell can be found
//! with `sed -n LINEp`.

/// What can go wrong reading a series.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input could not be read.
    #[error("reading the series: {source}")]
    Io {
        /// The underlying error.
        #[from]
        source: std::io::Error,
    },
    /// The input has no header line.
    #[error("the CSV is empty: a header line is needed")]
    Empty,
    /// The header has no column of that name.
    #[error("no column named {name:?} in the header (columns: {columns})")]
    NoColumn {
        /// The column asked for.
        name: String,
        /// The header's columns, comma-separated.
        columns: String,
    },
    /// A line is not valid UTF-8.
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// 1-based line number.
        line: usize,
    },
    /// A quoted field is not closed before the end of the input.
    #[error("line {line}: unterminated quoted field")]
    Unterminated {
        /// 1-based line number where the field starts.
        line: usize,
    },
    /// A row has fewer fields than the column index.
    #[error("line {line} (row {row}): {have} fields, column {column:?} is field {need}")]
    ShortRow {
        /// 1-based line number.
        line: usize,
        /// 0-based data row index.
        row: usize,
        /// The column asked for.
        column: String,
        /// 1-based position of that column.
        need: usize,
        /// Fields on the row.
        have: usize,
    },
    /// A cell is neither empty nor a finite number.
    #[error("line {line} (row {row}), column {column:?}: {text:?} is not a finite number")]
    BadValue {
        /// 1-based line number.
        line: usize,
        /// 0-based data row index.
        row: usize,
        /// The column.
        column: String,
        /// The offending cell (at most 64 characters of it).
        text: String,
    },
    /// More rows than the reader accepts.
    #[error("more than {limit} rows: too long for change-point detection in memory")]
    TooLong {
        /// The limit.
        limit: usize,
    },
}
