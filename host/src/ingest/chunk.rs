//! Chunking with `text-splitter`: Markdown is split at headings first, then
//! paragraphs, sentences and words (its semantic levels); other text at
//! paragraphs, sentences and words. Sizes are in characters, or in tokens of
//! the all-MiniLM-L6-v2 tokenizer (the default embedding model's), with overlap.
//! Tables are packed whole rows at a time under their header line, so each chunk
//! reads alone; a row too long for one chunk is split as text.

use serde_json::Value;
use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter, TextSplitter};

use super::extract::{Body, Place, Section};

/// What chunk sizes count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// Unicode scalar values.
    #[default]
    Chars,
    /// all-MiniLM-L6-v2 WordPiece tokens (its `tokenizer.json`).
    Tokens,
}

impl std::str::FromStr for Unit {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Unit> {
        match s {
            "chars" | "characters" => Ok(Unit::Chars),
            "tokens" => Ok(Unit::Tokens),
            other => Err(crate::Error::InvalidArgument(format!("unit {other:?}: use chars or tokens"))),
        }
    }
}

/// A configured splitter: text in, chunks out, each with its byte offset in the text.
type Split = Box<dyn Fn(&str) -> Vec<(usize, String)> + Send + Sync>;

/// Splits documents into chunks of at most `size` units, consecutive chunks sharing up to `overlap`.
pub struct Chunker {
    text: Split,
    markdown: Split,
    /// The size of a text in units.
    measure: Box<dyn Fn(&str) -> usize + Send + Sync>,
    size: usize,
}

fn splitters<S: ChunkSizer + Clone + Send + Sync + 'static>(
    text: ChunkConfig<S>,
    markdown: ChunkConfig<S>,
    sizer: S,
    size: usize,
) -> Chunker {
    let text = TextSplitter::new(text);
    let markdown = MarkdownSplitter::new(markdown);
    Chunker {
        text: Box::new(move |t| text.chunk_indices(t).map(|(i, c)| (i, c.to_string())).collect()),
        markdown: Box::new(move |t| markdown.chunk_indices(t).map(|(i, c)| (i, c.to_string())).collect()),
        measure: Box::new(move |t| sizer.size(t)),
        size,
    }
}

impl Chunker {
    /// A chunker. Errors: `InvalidArgument` (size 0, overlap not below size), `Embedding`
    /// (tokens asked for and the MiniLM tokenizer not found).
    pub fn new(size: usize, overlap: usize, unit: Unit) -> crate::Result<Chunker> {
        if size == 0 {
            return Err(crate::Error::InvalidArgument("chunk size must be at least 1".into()));
        }
        let bad = |e: text_splitter::ChunkConfigError| {
            crate::Error::InvalidArgument(format!("chunk overlap {overlap} must be smaller than the size {size}: {e}"))
        };
        Ok(match unit {
            Unit::Chars => splitters(
                ChunkConfig::new(size).with_overlap(overlap).map_err(bad)?,
                ChunkConfig::new(size).with_overlap(overlap).map_err(bad)?,
                text_splitter::Characters,
                size,
            ),
            Unit::Tokens => {
                let dir = crate::embed::find_model_dir().map_err(crate::Error::Embedding)?;
                let tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json"))
                    .map_err(|e| crate::Error::Embedding(format!("cannot load the MiniLM tokenizer: {e}")))?;
                splitters(
                    ChunkConfig::new(size).with_sizer(tokenizer.clone()).with_overlap(overlap).map_err(bad)?,
                    ChunkConfig::new(size).with_sizer(tokenizer.clone()).with_overlap(overlap).map_err(bad)?,
                    tokenizer,
                    size,
                )
            }
        })
    }

    /// The chunks of `text`, a document of `content_type` (trimmed, none empty).
    pub fn chunks(&self, text: &str, content_type: &str) -> Vec<String> {
        self.indexed(text, content_type).into_iter().map(|(_, c)| c).collect()
    }

    /// [`Chunker::chunks`] with each chunk's byte offset in `text`.
    fn indexed(&self, text: &str, content_type: &str) -> Vec<(usize, String)> {
        let out = if content_type == "text/markdown" { (self.markdown)(text) } else { (self.text)(text) };
        out.into_iter().map(|(i, c)| (i, c.trim().to_string())).filter(|(_, c)| !c.is_empty()).collect()
    }

    /// The chunks of `section`, each with the section's place (tables add `rows`: the first
    /// and last row numbers the chunk holds).
    pub fn section(&self, section: &Section) -> Vec<(String, Place)> {
        match &section.body {
            Body::Text(t) => self.with_place(self.chunks(t, "text/plain"), &section.place),
            Body::Markdown { text, headings } => self
                .indexed(text, "text/markdown")
                .into_iter()
                .map(|(at, chunk)| {
                    let mut place = section.place.clone();
                    // The path of the last heading at or before the chunk's first character.
                    let first = at + text[at..].len() - text[at..].trim_start().len();
                    let path = headings.partition_point(|(h, _)| *h <= first);
                    if path > 0 {
                        place.insert("headings".into(), Value::from(headings[path - 1].1.clone()));
                    }
                    (chunk, place)
                })
                .collect(),
            Body::Table { header, rows } => self.table(header, rows, &section.place),
        }
    }

    fn with_place(&self, chunks: Vec<String>, place: &Place) -> Vec<(String, Place)> {
        chunks.into_iter().map(|c| (c, place.clone())).collect()
    }

    /// Rows packed under their header line ("a | b | c") while the chunk stays within the size.
    /// A header longer than half a chunk is cut to half (with "..."); a row too long to share a
    /// chunk with the header is split as text, the header kept on each part that fits with it.
    /// A table with no rows below its header is one chunk: the header.
    fn table(&self, header: &[String], rows: &[(usize, Vec<String>)], place: &Place) -> Vec<(String, Place)> {
        let line = |cells: &[String]| {
            cells.iter().map(|c| c.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join(" | ")
        };
        let mut head = line(header);
        while (self.measure)(&head) > self.size / 2 && !head.is_empty() {
            let keep = head.chars().count() * 3 / 4;
            head = head.chars().take(keep).collect::<String>() + "...";
            if keep == 0 {
                head.clear();
            }
        }
        let head_size = (self.measure)(&head) + 1;
        let with_head = |body: &str| if head.is_empty() { body.to_string() } else { format!("{head}\n{body}") };
        let mut out = Vec::new();
        let mut chunk: Vec<String> = Vec::new();
        let (mut first, mut last, mut used) = (0, 0, head_size);
        let flush = |out: &mut Vec<(String, Place)>, chunk: &mut Vec<String>, first: usize, last: usize| {
            if !chunk.is_empty() {
                let mut p = place.clone();
                p.insert("rows".into(), Value::from(vec![first, last]));
                out.push((with_head(&chunk.join("\n")), p));
                chunk.clear();
            }
        };
        for (number, cells) in rows {
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let text = line(cells);
            let size = (self.measure)(&text) + 1;
            if head_size + size > self.size {
                // A row longer than a chunk: its own chunks, as text, each after the header if
                // the two fit together.
                flush(&mut out, &mut chunk, first, last);
                used = head_size;
                for part in self.chunks(&text, "text/plain") {
                    let mut p = place.clone();
                    p.insert("rows".into(), Value::from(vec![*number, *number]));
                    let fits = head_size + (self.measure)(&part) <= self.size;
                    out.push((if fits { with_head(&part) } else { part }, p));
                }
                continue;
            }
            if used + size > self.size {
                flush(&mut out, &mut chunk, first, last);
                used = head_size;
            }
            if chunk.is_empty() {
                first = *number;
            }
            chunk.push(text);
            last = *number;
            used += size;
        }
        flush(&mut out, &mut chunk, first, last);
        if out.is_empty() && !head.trim().is_empty() {
            out.push((head.clone(), place.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_size_and_overlap() {
        let text = (0..40).map(|i| format!("Sentence number {i} is here.")).collect::<Vec<_>>().join(" ");
        let c = Chunker::new(200, 50, Unit::Chars).unwrap();
        let chunks = c.chunks(&text, "text/plain");
        assert!(chunks.len() > 5);
        assert!(chunks.iter().all(|x| x.chars().count() <= 200), "{chunks:?}");
        // Consecutive chunks share text (the overlap), and together they cover everything.
        for pair in chunks.windows(2) {
            let tail: String = pair[0].chars().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
            assert!(pair[1].contains(tail.split_whitespace().last().unwrap()), "{pair:?}");
        }
        assert!(chunks.last().unwrap().ends_with("Sentence number 39 is here."));
        assert_eq!(c.chunks(&text, "text/plain"), chunks, "chunking is deterministic");
    }

    #[test]
    fn markdown_splits_at_headings_first() {
        let md = "# Install\n\nRun make.\n\n# Use\n\nCall rem.\n";
        let c = Chunker::new(30, 0, Unit::Chars).unwrap();
        assert_eq!(c.chunks(md, "text/markdown"), vec!["# Install\n\nRun make.", "# Use\n\nCall rem."]);
    }

    #[test]
    fn table_chunks_repeat_the_header_and_name_their_rows() {
        let rows: Vec<(usize, Vec<String>)> =
            (2..=21).map(|i| (i, vec![format!("CO{i}"), format!("{}", i * 100)])).collect();
        let section = Section {
            place: super::super::extract::place("sheet", "Model"),
            body: Body::Table { header: vec!["company".into(), "revenue".into()], rows },
        };
        let chunks = Chunker::new(60, 10, Unit::Chars).unwrap().section(&section);
        assert!(chunks.len() > 3);
        let mut next = 2;
        for (text, place) in &chunks {
            assert!(text.starts_with("company | revenue\n") && text.chars().count() <= 60, "{text}");
            assert_eq!(place["sheet"], "Model");
            let rows = place["rows"].as_array().unwrap();
            assert_eq!(rows[0], next, "rows follow on without gaps or repeats");
            assert!(text.ends_with(&format!("CO{} | {}", rows[1], rows[1].as_u64().unwrap() * 100)), "{text}");
            next = rows[1].as_u64().unwrap() + 1;
        }
        assert_eq!(next, 22);
    }

    #[test]
    fn markdown_chunks_pack_small_sections_and_name_their_heading() {
        let md = "# Guide\n\n## Install\n\nRun make.\n\n## Use\n\nCall rem.\n\n# Reference\n\n## Flags\n\n".to_string()
            + &"The flag sets the path. ".repeat(6);
        let section = super::super::extract::text::markdown(md.as_bytes()).unwrap().remove(0);
        let chunks = Chunker::new(120, 0, Unit::Chars).unwrap().section(&section);
        let paths: Vec<Value> = chunks.iter().map(|(_, p)| p["headings"].clone()).collect();
        assert!(chunks[0].0.contains("Run make.") && chunks[0].0.contains("Call rem."), "packed: {chunks:?}");
        assert_eq!(paths[0], serde_json::json!(["Guide"]));
        assert!(paths.contains(&serde_json::json!(["Reference", "Flags"])), "{paths:?}");
    }

    #[test]
    fn odd_tables_still_chunk_within_the_size() {
        let c = Chunker::new(40, 0, Unit::Chars).unwrap();
        let only_header = Section {
            place: Place::new(),
            body: Body::Table { header: vec!["Title of the sheet".into()], rows: vec![] },
        };
        assert_eq!(c.section(&only_header), vec![("Title of the sheet".to_string(), Place::new())]);
        let wide = Section {
            place: Place::new(),
            body: Body::Table {
                header: vec!["a very long column name".into(), "another very long one".into()],
                rows: vec![(2, vec!["x".into(), "y".into()]), (3, vec![String::new(), " ".into()])],
            },
        };
        let chunks = c.section(&wide);
        assert_eq!(chunks.len(), 1, "the empty row is left out: {chunks:?}");
        assert!(chunks[0].0.chars().count() <= 40 && chunks[0].0.ends_with("...\nx | y"), "{chunks:?}");
        let long_row = Section {
            place: Place::new(),
            body: Body::Table { header: vec!["h".into()], rows: vec![(2, vec!["word ".repeat(30)])] },
        };
        assert!(c.section(&long_row).iter().all(|(t, _)| t.chars().count() <= 40));
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(Chunker::new(0, 0, Unit::Chars).is_err());
        assert!(Chunker::new(100, 100, Unit::Chars).is_err());
    }
}
