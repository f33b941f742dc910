//! Word and PowerPoint files (`.docx`, `.doc`, `.pptx`, `.ppt`) through `undoc`'s document model.
//!
//! Word: a section per heading, holding the heading and the paragraphs up to the next one,
//! placed by its heading path (`headings`); each table is a section of its own (`table`: its
//! number, from 1, with the heading path it sits under) whose first row is the header repeated
//! on each chunk; footnotes and endnotes stay with the text where the document collects them.
//! PowerPoint: a section per slide (`slide`, from 1): its text, its tables as tab-separated
//! lines, and its speaker notes after "Notes:".

use serde_json::Value;
use undoc::model::{Block, Paragraph, Section as Part, Table};

use super::{Body, Format, Place, Section, place};

/// The sections of a Word or PowerPoint file. Errors: a file `undoc` cannot read (not an
/// Office file, damaged, encrypted).
pub fn sections(bytes: &[u8], format: Format) -> Result<Vec<Section>, String> {
    let doc = undoc::parse_bytes(bytes).map_err(|e| format!("cannot read the {}: {e}", name(format)))?;
    Ok(match format {
        Format::Pptx | Format::Ppt => doc.sections.iter().map(slide).collect(),
        _ => word(&doc.sections),
    })
}

fn name(format: Format) -> &'static str {
    match format {
        Format::Pptx | Format::Ppt => "presentation",
        _ => "document",
    }
}

/// Deepest nesting of tables in cells that is read.
const MAX_NESTING: usize = 8;

/// A paragraph's text.
fn text_of(p: &Paragraph) -> String {
    p.plain_text()
}

/// A Word document's sections (see the module's note).
fn word(parts: &[Part]) -> Vec<Section> {
    struct Out {
        path: Vec<(u8, String)>,
        text: String,
        tables: usize,
        sections: Vec<Section>,
    }
    impl Out {
        fn place(&self) -> Place {
            if self.path.is_empty() {
                Place::new()
            } else {
                place("headings", self.path.iter().map(|(_, t)| Value::from(t.clone())).collect::<Vec<_>>())
            }
        }
        fn flush(&mut self) {
            if !self.text.trim().is_empty() {
                let text = std::mem::take(&mut self.text);
                self.sections.push(Section::text(self.place(), text));
            }
            self.text.clear();
        }
        fn paragraph(&mut self, p: &Paragraph) {
            let t = text_of(p);
            let level = p.heading.level();
            if level > 0 && !t.trim().is_empty() {
                self.flush();
                self.path.retain(|(l, _)| *l < level);
                self.path.push((level, t.trim().to_string()));
            }
            if !t.is_empty() {
                self.text.push_str(&t);
                self.text.push_str("\n\n");
            }
        }
        fn table(&mut self, t: &Table, depth: usize) {
            self.flush();
            self.tables += 1;
            let mut rows = t.rows.iter().map(|r| r.cells.iter().map(|c| c.plain_text()).collect::<Vec<String>>());
            let header = rows.next().unwrap_or_default();
            let mut p = self.place();
            p.insert("table".into(), self.tables.into());
            self.sections.push(Section {
                place: p,
                body: Body::Table { header, rows: rows.enumerate().map(|(i, r)| (i + 2, r)).collect() },
            });
            // Tables nested in cells, to a bounded depth (a hostile file cannot exhaust the stack).
            if depth < MAX_NESTING {
                for nested in t.rows.iter().flat_map(|r| &r.cells).flat_map(|c| &c.nested_tables) {
                    self.table(nested, depth + 1);
                }
            }
        }
    }
    let mut out = Out { path: Vec::new(), text: String::new(), tables: 0, sections: Vec::new() };
    for part in parts {
        for block in &part.content {
            match block {
                Block::Paragraph(p) => out.paragraph(p),
                Block::Table(t) => out.table(t, 0),
                Block::Note { label, content } => {
                    out.text.push_str(&format!("[^{label}]: "));
                    for p in content {
                        out.text.push_str(&text_of(p));
                        out.text.push('\n');
                    }
                    out.text.push('\n');
                }
                Block::PageBreak | Block::SectionBreak | Block::Image { .. } => {}
            }
        }
    }
    out.flush();
    out.sections
}

/// One slide: its text, tables and notes.
fn slide(part: &Part) -> Section {
    let mut text = String::new();
    for block in &part.content {
        match block {
            Block::Paragraph(p) => {
                text.push_str(&text_of(p));
                text.push('\n');
            }
            Block::Table(t) => {
                text.push_str(&t.plain_text());
                text.push('\n');
            }
            Block::Note { content, .. } => content.iter().for_each(|p| {
                text.push_str(&text_of(p));
                text.push('\n');
            }),
            Block::PageBreak | Block::SectionBreak | Block::Image { .. } => {}
        }
    }
    if let Some(notes) = part.notes.as_ref().filter(|n| n.iter().any(|p| !text_of(p).trim().is_empty())) {
        text.push_str("\nNotes:\n");
        for p in notes {
            text.push_str(&text_of(p));
            text.push('\n');
        }
    }
    Section::text(place("slide", part.index + 1), text)
}
