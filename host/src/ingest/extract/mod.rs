//! Text extraction: a file's bytes to [`Section`]s of text or table rows, each with its place in
//! the document (page, sheet, slide, heading path), through a well-kept reader per format:
//!
//! | format | extensions | reader | sections |
//! |---|---|---|---|
//! | plain text | `.txt .text .rst .adoc .org .log` | UTF-8 | one |
//! | Markdown | `.md .markdown .mdown .mkd` | `pulldown-cmark` (heading offsets) | one; each chunk with the heading path where it starts |
//! | HTML | `.html .htm .xhtml` | `html2text` | one |
//! | PDF | `.pdf` | `pdf-extract` (lopdf) | one per page |
//! | Word | `.docx .doc` | `undoc` | one per heading, with its path; each table its own, rows with the header |
//! | PowerPoint | `.pptx .ppt` | `undoc` | one per slide (notes included) |
//! | spreadsheets | `.xlsx .xlsm .xls .ods` | `calamine` | one table per sheet, rows with the header |
//! | CSV / TSV | `.csv .tsv` | `csv` | one table, rows with the header |
//! | JSON / YAML | `.json .yaml .yml` | `serde_json` (pretty-printed) / UTF-8 | one |
//! | e-mail | `.eml` | `mail-parser` | one: headers, body, attachment names |

mod mail;
mod office;
mod pdf;
mod sheet;
pub(crate) mod text;

use std::path::Path;

use serde_json::{Map, Value};

/// Where a section sits in its document, copied into each chunk's `metadata`: `page` (PDF, from
/// 1), `sheet` (spreadsheets), `slide` (from 1), `headings` (the heading path, outermost first),
/// `table` (the table's number in a Word document, from 1). Chunks of tables add `rows`: the
/// first and last row they hold, 1-based (the sheet's row numbers, the line in a CSV or TSV
/// file, the row within a Word table).
pub type Place = Map<String, Value>;

/// The content of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Prose, chunked at paragraphs, sentences and words.
    Text(String),
    /// Markdown, chunked at its structure first (small sections packed together); each chunk is
    /// placed by the heading path in force where it starts.
    Markdown {
        /// The document.
        text: String,
        /// Where each heading starts (a byte offset into `text`) and the heading path from there
        /// on (outermost first), in order.
        headings: Vec<(usize, Vec<String>)>,
    },
    /// Table rows: each chunk repeats the header so it reads alone.
    Table {
        /// Column names (may be empty: a table without a header row).
        header: Vec<String>,
        /// Rows, each with its 1-based row number in the source.
        rows: Vec<(usize, Vec<String>)>,
    },
}

/// One part of a document: its place and its content.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Where it is (see [`Place`]).
    pub place: Place,
    /// What it holds.
    pub body: Body,
}

impl Section {
    /// A section of prose at `place`.
    pub fn text(place: Place, text: String) -> Section {
        Section { place, body: Body::Text(text) }
    }

    /// Whether the section holds no text.
    pub fn is_empty(&self) -> bool {
        match &self.body {
            Body::Text(t) | Body::Markdown { text: t, .. } => t.trim().is_empty(),
            Body::Table { header, rows } => {
                header.iter().all(|c| c.trim().is_empty())
                    && rows.iter().all(|(_, r)| r.iter().all(|c| c.trim().is_empty()))
            }
        }
    }
}

/// A place of one key.
pub fn place(key: &str, value: impl Into<Value>) -> Place {
    let mut m = Map::new();
    m.insert(key.into(), value.into());
    m
}

/// The formats REM reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UTF-8 text.
    Text,
    /// Markdown.
    Markdown,
    /// HTML.
    Html,
    /// PDF.
    Pdf,
    /// Word 2007+ (`.docx`).
    Docx,
    /// Word 97-2003 (`.doc`).
    Doc,
    /// PowerPoint 2007+ (`.pptx`).
    Pptx,
    /// PowerPoint 97-2003 (`.ppt`).
    Ppt,
    /// Excel 2007+ (`.xlsx`).
    Xlsx,
    /// Excel 2007+ with macros (`.xlsm`; the macros are not read).
    Xlsm,
    /// Excel 97-2003 (`.xls`).
    Xls,
    /// OpenDocument spreadsheet (`.ods`).
    Ods,
    /// Comma-separated values.
    Csv,
    /// Tab-separated values.
    Tsv,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// An RFC 5322 e-mail message (`.eml`).
    Eml,
}

impl Format {
    /// The format of `path`, from its extension (case-insensitive); `None`: not a format REM reads.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        Some(match ext.as_str() {
            "md" | "markdown" | "mdown" | "mkd" => Format::Markdown,
            "txt" | "text" | "rst" | "adoc" | "org" | "log" => Format::Text,
            "html" | "htm" | "xhtml" => Format::Html,
            "pdf" => Format::Pdf,
            "docx" => Format::Docx,
            "doc" => Format::Doc,
            "pptx" => Format::Pptx,
            "ppt" => Format::Ppt,
            "xlsx" => Format::Xlsx,
            "xlsm" => Format::Xlsm,
            "xls" => Format::Xls,
            "ods" => Format::Ods,
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "json" => Format::Json,
            "yaml" | "yml" => Format::Yaml,
            "eml" => Format::Eml,
            _ => return None,
        })
    }

    /// The IANA media type stored as the document's and chunks' `content_type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain",
            Format::Markdown => "text/markdown",
            Format::Html => "text/html",
            Format::Pdf => "application/pdf",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Doc => "application/msword",
            Format::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            Format::Ppt => "application/vnd.ms-powerpoint",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Xlsm => "application/vnd.ms-excel.sheet.macroEnabled.12",
            Format::Xls => "application/vnd.ms-excel",
            Format::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Format::Csv => "text/csv",
            Format::Tsv => "text/tab-separated-values",
            Format::Json => "application/json",
            Format::Yaml => "application/yaml",
            Format::Eml => "message/rfc822",
        }
    }
}

/// The extensions REM reads, for messages.
pub const SUPPORTED: &str = ".txt .text .rst .adoc .org .log .md .markdown .mdown .mkd .html .htm .xhtml .pdf .docx \
                             .doc .pptx .ppt .xlsx .xlsm .xls .ods .csv .tsv .tab .json .yaml .yml .eml";

/// The sections of `bytes`, a file of `format`, empty sections left out. Errors: a sentence
/// naming what failed (not UTF-8, a file its reader cannot open, no text at all), for the
/// ingest summary. A reader that panics on a malformed file is caught and reported the same way.
pub fn sections(bytes: &[u8], format: Format) -> Result<Vec<Section>, String> {
    let out = std::panic::catch_unwind(|| match format {
        Format::Text | Format::Yaml => text::plain(bytes),
        Format::Markdown => text::markdown(bytes),
        Format::Html => text::html(bytes),
        Format::Json => text::json(bytes),
        Format::Pdf => pdf::pages(bytes),
        Format::Docx | Format::Doc | Format::Pptx | Format::Ppt => office::sections(bytes, format),
        Format::Xlsx | Format::Xlsm | Format::Xls | Format::Ods => sheet::workbook(bytes, format),
        Format::Csv => sheet::delimited(bytes, b','),
        Format::Tsv => sheet::delimited(bytes, b'\t'),
        Format::Eml => mail::message(bytes),
    })
    .map_err(|_| format!("the {} reader failed on this file (malformed or unsupported)", format.content_type()))??;
    let out: Vec<Section> = out.into_iter().filter(|s| !s.is_empty()).collect();
    if out.is_empty() {
        return Err(match format {
            Format::Pdf => "the PDF has no extractable text (scanned images need OCR, which REM does not do)".into(),
            _ => "no text in the file".into(),
        });
    }
    Ok(out)
}

/// `bytes` as UTF-8 (a byte-order mark dropped). Errors: the position of the first bad byte.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))
}
