//! Text extraction: plain text and Markdown as they are, HTML to text with
//! `html2text`, PDF to text with `pdf-extract` (lopdf underneath).

use std::path::Path;

/// MIME type of a supported file, from its extension (`None`: not a document REM reads).
pub fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    Some(match ext.as_str() {
        "md" | "markdown" | "mdown" | "mkd" => "text/markdown",
        "txt" | "text" | "rst" | "adoc" | "org" | "log" | "csv" | "tsv" => "text/plain",
        "html" | "htm" | "xhtml" => "text/html",
        "pdf" => "application/pdf",
        _ => return None,
    })
}

/// Lines wider than this are not re-wrapped by the HTML renderer.
const HTML_WIDTH: usize = 100_000;

/// The text of `bytes`, a file of `content_type`. Errors: a message naming what failed
/// (not UTF-8, unreadable HTML, a PDF the extractor cannot read or that has no text).
pub fn text(bytes: &[u8], content_type: &str) -> Result<String, String> {
    match content_type {
        "text/html" => html2text::config::plain_no_decorate()
            .string_from_read(bytes, HTML_WIDTH)
            .map_err(|e| format!("cannot read the HTML: {e}")),
        "application/pdf" => {
            // pdf-extract panics on some malformed files: keep a bad file from taking the run down.
            let out = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
                .map_err(|_| "the PDF extractor failed on this file (malformed or unsupported PDF)".to_string())?
                .map_err(|e| format!("cannot read the PDF: {e}"))?;
            if out.trim().is_empty() {
                return Err("the PDF has no extractable text (scanned images need OCR, which REM does not do)".into());
            }
            Ok(out)
        }
        _ => String::from_utf8(bytes.to_vec()).map_err(|e| format!("not UTF-8 text: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_extensions() {
        assert_eq!(content_type(Path::new("a/README.md")), Some("text/markdown"));
        assert_eq!(content_type(Path::new("x.HTML")), Some("text/html"));
        assert_eq!(content_type(Path::new("paper.pdf")), Some("application/pdf"));
        assert_eq!(content_type(Path::new("image.png")), None);
    }

    #[test]
    fn html_becomes_text_without_markup() {
        let html = b"<html><head><title>T</title><style>p{color:red}</style></head>\
                     <body><h1>Install</h1><p>Run <b>make</b> first.</p><script>x()</script></body></html>";
        let t = text(html, "text/html").unwrap();
        assert!(t.contains("Install") && t.contains("Run make first."), "{t}");
        assert!(!t.contains('<') && !t.contains("color:red"), "{t}");
    }

    /// A one-page PDF 1.4 showing `text` in Helvetica, with a correct xref table.
    fn tiny_pdf(text: &str) -> Vec<u8> {
        let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
             /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_string(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for off in offsets {
            out.extend(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
        );
        out
    }

    #[test]
    fn pdf_text_is_extracted() {
        let t = text(&tiny_pdf("Embedded databases for agents"), "application/pdf").unwrap();
        assert!(t.contains("Embedded databases for agents"), "{t:?}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(text(&[0xff, 0xfe, 0x00], "text/plain").unwrap_err().contains("UTF-8"));
        assert!(text(b"%PDF-1.4 not really", "application/pdf").is_err());
    }
}
