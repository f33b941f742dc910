//! Chunking with `text-splitter`: Markdown is split at headings first, then
//! paragraphs, sentences and words (its semantic levels); other text at
//! paragraphs, sentences and words. Sizes are in characters, or in tokens of
//! the all-MiniLM-L6-v2 tokenizer (the default embedding model's), with overlap.

use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter, TextSplitter};

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

/// A configured splitter: text in, chunks out.
type Split = Box<dyn Fn(&str) -> Vec<String> + Send + Sync>;

/// Splits documents into chunks of at most `size` units, consecutive chunks sharing up to `overlap`.
pub struct Chunker {
    text: Split,
    markdown: Split,
}

fn splitters<S: ChunkSizer + Send + Sync + 'static>(text: ChunkConfig<S>, markdown: ChunkConfig<S>) -> Chunker {
    let text = TextSplitter::new(text);
    let markdown = MarkdownSplitter::new(markdown);
    Chunker {
        text: Box::new(move |t| text.chunks(t).map(str::to_string).collect()),
        markdown: Box::new(move |t| markdown.chunks(t).map(str::to_string).collect()),
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
            ),
            Unit::Tokens => {
                let dir = crate::embed::find_model_dir().map_err(crate::Error::Embedding)?;
                let tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json"))
                    .map_err(|e| crate::Error::Embedding(format!("cannot load the MiniLM tokenizer: {e}")))?;
                splitters(
                    ChunkConfig::new(size).with_sizer(tokenizer.clone()).with_overlap(overlap).map_err(bad)?,
                    ChunkConfig::new(size).with_sizer(tokenizer).with_overlap(overlap).map_err(bad)?,
                )
            }
        })
    }

    /// The chunks of `text`, a document of `content_type` (trimmed, none empty).
    pub fn chunks(&self, text: &str, content_type: &str) -> Vec<String> {
        let out = if content_type == "text/markdown" { (self.markdown)(text) } else { (self.text)(text) };
        out.into_iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect()
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
    fn bad_settings_are_refused() {
        assert!(Chunker::new(0, 0, Unit::Chars).is_err());
        assert!(Chunker::new(100, 100, Unit::Chars).is_err());
    }
}
