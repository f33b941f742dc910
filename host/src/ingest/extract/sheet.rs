//! Tables: spreadsheets (`.xlsx`, `.xlsm`, `.xls`, `.ods`) through `calamine`, one section per
//! sheet (`sheet`: its name); CSV and TSV through `csv`. The first non-empty row is the header,
//! repeated on each chunk; each row keeps its 1-based row number in the sheet or line in the file.
//!
//! An `.xlsx` sheet is read cell by cell (calamine's cells reader), so a sheet that names a
//! far corner (`XFD1048576`) costs the cells it holds, not its area; at most [`MAX_CELLS`] cells
//! are kept per workbook. `.xls` sheets are bounded by the format (65,536 x 256); `.ods` sheets
//! are read as calamine's dense ranges.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, DataType, Ods, Reader, Xls, Xlsx, open_workbook_from_rs};

use super::{Body, Format, Place, Section, place};

/// A section per sheet with data. Errors: a workbook `calamine` cannot open, a sheet it cannot
/// read (named).
pub fn workbook(bytes: &[u8], format: Format) -> Result<Vec<Section>, String> {
    let data = Cursor::new(bytes);
    let bad = |e: &dyn std::fmt::Display| format!("cannot read the workbook: {e}");
    match format {
        Format::Xls => sheets(open_workbook_from_rs::<Xls<_>, _>(data).map_err(|e| bad(&e))?),
        Format::Ods => sheets(open_workbook_from_rs::<Ods<_>, _>(data).map_err(|e| bad(&e))?),
        _ => xlsx(open_workbook_from_rs::<Xlsx<_>, _>(data).map_err(|e| bad(&e))?),
    }
}

/// Most cells kept from one workbook (a sheet past it fails, naming the limit).
pub const MAX_CELLS: usize = 10_000_000;

/// The sheets of an `.xlsx` workbook, read cell by cell (see the module's note).
fn xlsx(mut book: Xlsx<Cursor<&[u8]>>) -> Result<Vec<Section>, String> {
    let mut out = Vec::new();
    let mut kept = 0usize;
    for name in book.sheet_names() {
        let mut cells = book.worksheet_cells_reader(&name).map_err(|e| format!("cannot read sheet {name:?}: {e}"))?;
        // Row number -> (column, text) of its cells with a value.
        let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
        while let Some(c) = cells.next_cell().map_err(|e| format!("cannot read sheet {name:?}: {e}"))? {
            let value = Data::from(c.get_value().clone());
            if value.is_empty() {
                continue;
            }
            kept += 1;
            if kept > MAX_CELLS {
                return Err(format!("the workbook holds more than {MAX_CELLS} cells; REM reads at most that many"));
            }
            let (row, col) = c.get_position();
            rows.entry(row).or_default().push((col, cell(&value)));
        }
        // Columns from the first one used, so a table placed at D5 does not start with blanks.
        let first_col = rows.values().flatten().map(|(c, _)| *c).min().unwrap_or(0);
        let mut dense = Vec::with_capacity(rows.len());
        for (row, mut cells) in rows {
            cells.sort_by_key(|(c, _)| *c);
            let mut line = Vec::new();
            for (col, text) in cells {
                // The blanks between a row's cells count against the budget too.
                let at = (col - first_col) as usize;
                if at > line.len() {
                    kept += at - line.len();
                    if kept > MAX_CELLS {
                        return Err(format!(
                            "sheet {name:?} spreads over more than {MAX_CELLS} cells; REM reads at most that many"
                        ));
                    }
                    line.resize(at, String::new());
                }
                line.push(text);
            }
            dense.push((row as usize + 1, line));
        }
        out.extend(table(place("sheet", name.clone()), dense.into_iter()));
    }
    Ok(out)
}

fn sheets<RS: std::io::Read + std::io::Seek, R: Reader<RS>>(mut book: R) -> Result<Vec<Section>, String>
where
    R::Error: std::fmt::Display,
{
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| format!("cannot read sheet {name:?}: {e}"))?;
        let first_row = range.start().map_or(0, |(row, _)| row as usize);
        let rows = range.rows().enumerate().map(|(i, cells)| (first_row + i + 1, cells.iter().map(cell).collect()));
        out.extend(table(place("sheet", name.clone()), rows));
    }
    Ok(out)
}

/// A cell as text: numbers without a needless `.0`, dates and times in ISO 8601 where calamine
/// can tell, errors as Excel shows them.
fn cell(d: &Data) -> String {
    match d {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(dt) => {
            dt.as_datetime().map_or_else(|| d.to_string(), |t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        }
        _ => d.to_string(),
    }
}

/// The table of `rows` at `place`: the first non-empty row is the header; `None` if no row has text.
fn table(place: Place, rows: impl Iterator<Item = (usize, Vec<String>)>) -> Option<Section> {
    // (A header with no rows below it is kept: the chunker writes it as a chunk of its own.)
    let mut rows = rows.filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()));
    let (_, header) = rows.next()?;
    Some(Section { place, body: Body::Table { header, rows: rows.collect() } })
}

/// One table of a CSV or TSV file (records of any length). Errors: not UTF-8, or a record the
/// reader rejects, with its line.
pub fn delimited(bytes: &[u8], delimiter: u8) -> Result<Vec<Section>, String> {
    let text = super::utf8(bytes)?;
    // TSV has no quoting: a field starting with `"` is text, not the start of a quoted field.
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .quoting(delimiter != b'\t')
        .from_reader(text.as_bytes());
    let bytes = text.as_bytes();
    // Newlines counted so far, and up to where: positions only grow, so each byte is counted once.
    let (mut counted, mut lines) = (0usize, 0usize);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| format!("cannot read the {}: {e}", if delimiter == b'\t' { "TSV" } else { "CSV" }))?;
        // The line the record starts on (the reader's own count skips blank lines).
        // (its position is where the previous record ended, so blank lines are stepped over).
        let line = record.position().map_or(rows.len() + 1, |p| {
            let mut at = (p.byte() as usize).clamp(counted, bytes.len());
            while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
                at += 1;
            }
            lines += bytes[counted..at].iter().filter(|&&b| b == b'\n').count();
            counted = at;
            1 + lines
        });
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(table(Place::new(), rows.into_iter()).into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_lines_and_header() {
        let s = delimited(b"ticker,close\nACME,12.5\n\nBETA,\"7,25\"\n", b',').unwrap();
        assert_eq!(
            s[0].body,
            Body::Table {
                header: vec!["ticker".into(), "close".into()],
                rows: vec![(2, vec!["ACME".into(), "12.5".into()]), (4, vec!["BETA".into(), "7,25".into()])],
            }
        );
        assert!(delimited(b"a\tb\n1\t2\n", b'\t').unwrap()[0].body != s[0].body);
        // A quoted field over two lines; CRLF line ends; a TSV field starting with a quote.
        let q = delimited(b"name,note\r\n\"Acme\",\"two\r\nlines\"\r\nBeta,x\r\n", b',').unwrap();
        let Body::Table { rows, .. } = &q[0].body else { panic!() };
        assert_eq!(rows.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![2, 4]);
        let t = delimited(b"a\tb\n\"quoted\tx\nnext\ty\n", b'\t').unwrap();
        let Body::Table { rows, .. } = &t[0].body else { panic!() };
        assert_eq!(rows, &vec![(2, vec!["\"quoted".to_string(), "x".into()]), (3, vec!["next".into(), "y".into()])]);
        assert!(delimited(b"", b',').unwrap().is_empty());
    }

    #[test]
    fn bad_workbooks_are_errors() {
        assert!(workbook(b"not a zip", Format::Xlsx).unwrap_err().contains("cannot read the workbook"));
        assert!(workbook(b"not an ole file", Format::Xls).is_err());
    }
}
