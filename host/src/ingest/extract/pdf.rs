//! PDF text, one section per page, through `pdf-extract` (which places each glyph and puts a
//! space where the gap to the previous one is wider than a tenth of the font size).
//!
//! One repair before extraction: a simple font with no `/Widths` that is not one of the 14
//! standard fonts (producers that name "Arial" or "TimesNewRoman" without metrics, against
//! ISO 32000-1 §9.6.2.1) is renamed to the standard font of its family, as Poppler, PDFium and
//! MuPDF substitute it when rendering. `pdf-extract` 0.12 means to do the same but compares the
//! original name, so every glyph of such a font gets width 0 and every gap between glyph runs
//! reads as a space ("Liq uidatio n"). Only the copy in memory is changed.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use pdf_extract::{
    ConvertToFmt, Dictionary, Document, MediaBox, Object, ObjectId, OutputDev, OutputError, PlainTextOutput, Transform,
};

use super::{Section, place};

/// The 14 standard Type 1 fonts (ISO 32000-1 §9.6.2.2), whose metrics every reader has.
const STANDARD_14: [&str; 14] = [
    "Courier",
    "Courier-Bold",
    "Courier-Oblique",
    "Courier-BoldOblique",
    "Helvetica",
    "Helvetica-Bold",
    "Helvetica-Oblique",
    "Helvetica-BoldOblique",
    "Times-Roman",
    "Times-Bold",
    "Times-Italic",
    "Times-BoldItalic",
    "Symbol",
    "ZapfDingbats",
];

/// A section per page with text (`page`: its number, from 1). Errors: a file lopdf cannot
/// load, a password-protected file, a page the extractor cannot read.
pub fn pages(bytes: &[u8]) -> Result<Vec<Section>, String> {
    let mut doc = Document::load_mem(bytes).map_err(|e| format!("cannot read the PDF: {e}"))?;
    if doc.is_encrypted() {
        // Many PDFs are encrypted with an empty user password (permissions only).
        doc.decrypt("").map_err(|_| "the PDF is encrypted with a password; REM cannot read it".to_string())?;
    }
    substitute_fonts(&mut doc);
    refuse_form_cycles(&doc)?;
    // One pass over the document (not a page lookup per page), split where each page begins.
    let text = Shared::default();
    let mut pages = Pages { inner: PlainTextOutput::new(text.clone()), text: text.clone(), starts: Vec::new() };
    pdf_extract::output_doc(&doc, &mut pages).map_err(|e| format!("cannot read the PDF: {e}"))?;
    let text = text.0.borrow();
    let mut out = Vec::with_capacity(pages.starts.len());
    for (i, &(page, start)) in pages.starts.iter().enumerate() {
        let end = pages.starts.get(i + 1).map_or(text.len(), |&(_, e)| e);
        out.push(Section::text(place("page", page), text[start..end].to_string()));
    }
    Ok(out)
}

/// The extracted text, shared between the text output and [`Pages`], which notes where each
/// page starts in it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<String>>);

impl std::fmt::Write for Shared {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.borrow_mut().push_str(s);
        Ok(())
    }
}

impl ConvertToFmt for Shared {
    type Writer = Shared;
    fn convert(self) -> Shared {
        self
    }
}

/// pdf-extract's plain-text layout, noting the page number and text offset of each page.
struct Pages {
    inner: PlainTextOutput<Shared>,
    text: Shared,
    starts: Vec<(u32, usize)>,
}

impl OutputDev for Pages {
    fn begin_page(
        &mut self,
        page: u32,
        media_box: &MediaBox,
        art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.starts.push((page, self.text.0.borrow().len()));
        self.inner.begin_page(page, media_box, art_box)
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        self.inner.end_page()
    }
    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        size: f64,
        c: &str,
    ) -> Result<(), OutputError> {
        self.inner.output_character(trm, width, spacing, size, c)
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.inner.begin_word()
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        self.inner.end_word()
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        self.inner.end_line()
    }
}

/// Deepest nesting of form XObjects looked through.
const MAX_FORM_DEPTH: usize = 64;

/// Refuse a PDF whose form XObjects can draw themselves: `pdf-extract` follows `Do` by recursion
/// without a cycle check, so such a file would overflow the stack. Looks through each page's
/// resources, form by form (a form without `/Resources` uses its caller's), remembering what is
/// explored. Errors: a sentence for the summary.
fn refuse_form_cycles(doc: &Document) -> Result<(), String> {
    fn resources<'a>(doc: &'a Document, o: Option<&'a Object>) -> Option<&'a Dictionary> {
        match o? {
            Object::Reference(id) => doc.get_dictionary(*id).ok(),
            Object::Dictionary(d) => Some(d),
            _ => None,
        }
    }
    fn walk<'a>(
        doc: &'a Document,
        res: &'a Dictionary,
        stack: &mut Vec<ObjectId>,
        done: &mut HashSet<(ObjectId, usize)>,
    ) -> bool {
        let Some(xobjects) = resources(doc, res.get(b"XObject").ok()) else { return true };
        for (_, v) in xobjects.iter() {
            let Ok(id) = v.as_reference() else { continue };
            let Ok(Object::Stream(form)) = doc.get_object(id) else { continue };
            if form.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form".as_slice()) {
                continue;
            }
            let inner = resources(doc, form.dict.get(b"Resources").ok()).unwrap_or(res);
            let key = (id, inner as *const Dictionary as usize);
            if done.contains(&key) {
                continue;
            }
            if stack.contains(&id) || stack.len() >= MAX_FORM_DEPTH {
                return false;
            }
            stack.push(id);
            let ok = walk(doc, inner, stack, done);
            stack.pop();
            if !ok {
                return false;
            }
            done.insert(key);
        }
        true
    }
    let mut done = HashSet::new();
    for (_, page) in doc.get_pages() {
        let Ok(dict) = doc.get_dictionary(page) else { continue };
        let Some(res) = resources(doc, dict.get(b"Resources").ok()) else { continue };
        if !walk(doc, res, &mut Vec::new(), &mut done) {
            return Err(
                "the PDF's form objects draw themselves (a cycle) or nest deeper than 64; REM does not read it".into(),
            );
        }
    }
    Ok(())
}

/// Rename every simple font without `/Widths` that is not a standard font to its standard
/// substitute (see the module's note).
fn substitute_fonts(doc: &mut Document) {
    for object in doc.objects.values_mut() {
        visit(object, 0);
    }
}

/// Fonts can be direct objects inside resource dictionaries: look through nested dictionaries
/// and arrays (to a bounded depth: a malformed file cannot overflow the stack).
fn visit(object: &mut Object, depth: usize) {
    if depth > 32 {
        return;
    }
    match object {
        Object::Dictionary(d) => {
            let is_simple_font = d.get(b"Type").and_then(Object::as_name).is_ok_and(|n| n == b"Font")
                && d.get(b"Subtype")
                    .and_then(Object::as_name)
                    .is_ok_and(|n| matches!(n, b"Type1" | b"TrueType" | b"MMType1"));
            if is_simple_font
                && !d.has(b"Widths")
                && !symbolic(d)
                && let Some(name) = d.get(b"BaseFont").and_then(Object::as_name).ok().and_then(substitute)
            {
                d.set("BaseFont", Object::Name(name.as_bytes().to_vec()));
            }
            for (_, v) in d.iter_mut() {
                visit(v, depth + 1);
            }
        }
        Object::Array(items) => items.iter_mut().for_each(|v| visit(v, depth + 1)),
        Object::Stream(s) => s.dict.iter_mut().for_each(|(_, v)| visit(v, depth + 1)),
        _ => {}
    }
}

/// Whether a font's descriptor (when inline) marks it symbolic (ISO 32000-1 §9.8.2, flag bit 3),
/// or its name says Symbol or Dingbats: its codes are not letters, so it is left as it is.
fn symbolic(font: &Dictionary) -> bool {
    let named = font.get(b"BaseFont").and_then(Object::as_name).is_ok_and(|n| {
        let n = String::from_utf8_lossy(n).to_ascii_lowercase();
        n.contains("symbol") || n.contains("dingbat") || n.contains("wingding")
    });
    let flagged = font
        .get(b"FontDescriptor")
        .and_then(Object::as_dict)
        .and_then(|d| d.get(b"Flags"))
        .and_then(Object::as_i64)
        .is_ok_and(|f| f & 4 != 0);
    named || flagged
}

/// The standard font standing in for `base_font` (`None`: it is one already). The family comes
/// from the name (a subset prefix `ABCDEF+` dropped): monospaced names to Courier, serif names to
/// Times, the rest to Helvetica; "Bold"/"Black"/"Heavy" and "Italic"/"Oblique" pick the face.
fn substitute(base_font: &[u8]) -> Option<&'static str> {
    let name = String::from_utf8_lossy(base_font);
    if STANDARD_14.contains(&name.as_ref()) {
        return None;
    }
    let name = name.split_once('+').map_or(name.as_ref(), |(_, n)| n).to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    let bold = has(&["bold", "black", "heavy", "semibold", "demi"]);
    let italic = has(&["italic", "oblique"]);
    let face = usize::from(bold) + 2 * usize::from(italic);
    Some(if has(&["courier", "mono", "consol", "code"]) {
        ["Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique"][face]
    } else if has(&["times", "serif", "roman", "georgia", "garamond", "cambria", "book"]) && !name.contains("sans") {
        ["Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic"][face]
    } else {
        ["Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique"][face]
    })
}

#[cfg(test)]
mod tests {
    use super::super::Body;
    use super::*;

    /// A PDF 1.4 with one page per entry of `pages`, each drawing its text with font `font`
    /// (a simple font dictionary without `/Widths`) in glyph runs of 1 to 4 letters, each run
    /// placed at its own origin with Helvetica's advance widths, as printers that position
    /// every run do.
    fn pdf_of_runs(pages: &[&str], base_font: &str) -> Vec<u8> {
        // Helvetica advance widths (1/1000 em) of ' ' to '~', from its AFM file.
        const W: [u16; 95] = [
            278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
            556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
            500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
            556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
            278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
        ];
        let width = |s: &str| s.bytes().map(|b| f64::from(W[usize::from(b - 32)]) * 11.0 / 1000.0).sum::<f64>();
        let mut objects = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            String::new(), // the page tree, once the pages are known
            format!("<< /Type /Font /Subtype /TrueType /BaseFont /{base_font} /Encoding /WinAnsiEncoding >>"),
        ];
        let mut kids = Vec::new();
        for (p, text) in pages.iter().enumerate() {
            let (mut x, mut y, mut ops) = (72.0, 720.0, String::from("BT\n"));
            for (w, word) in text.split(' ').enumerate() {
                if x + width(word) > 540.0 {
                    (x, y) = (72.0, y - 14.0);
                }
                let mut cx = x;
                let bytes = word.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    let n = 1 + (i + w + p) % 4;
                    let piece = &word[i..(i + n).min(bytes.len())];
                    ops.push_str(&format!("/F1 11 Tf 1 0 0 1 {cx:.3} {y} Tm ({piece}) Tj\n"));
                    cx += width(piece);
                    i += n;
                }
                x += width(word) + width(" ");
            }
            ops.push_str("ET");
            let content = objects.len() + 1;
            objects.push(format!("<< /Length {} >>\nstream\n{ops}\nendstream", ops.len()));
            kids.push(format!("{} 0 R", objects.len() + 1));
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R \
                 /Resources << /Font << /F1 3 0 R >> >> >>"
            ));
        }
        objects[1] = format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), kids.len());
        assemble(&objects)
    }

    /// A PDF 1.4 file of `objects` (numbered from 1; 1 is the catalog) with a correct xref table.
    fn assemble(objects: &[String]) -> Vec<u8> {
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

    /// The share of the words of `source` not found whole, in order, in `extracted`.
    fn broken_share(source: &str, extracted: &str) -> f64 {
        let words = |s: &str| -> Vec<String> {
            s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
        };
        let (want, got) = (words(source), words(extracted));
        let got: std::collections::HashMap<&str, usize> = got.iter().fold(Default::default(), |mut m, w| {
            *m.entry(w.as_str()).or_default() += 1;
            m
        });
        let mut left = got.clone();
        let found = want
            .iter()
            .filter(|w| match left.get_mut(w.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            })
            .count();
        1.0 - found as f64 / want.len() as f64
    }

    const TERM_SHEET: [&str; 2] = [
        "Liquidation preference: the holders of Series A Preferred Stock receive one times the original \
         purchase price plus declared but unpaid dividends before any distribution to common stockholders.",
        "Governance: the board of directors consists of five members, two elected by the Series A investors, \
         two by the founders and one independent director approved by both.",
    ];

    #[test]
    fn fonts_without_widths_keep_words_whole() {
        // The runs are placed with Helvetica's widths, so the fonts are ones standing for it
        // (regular and oblique share its widths).
        for font in ["ArialMT", "Arial-ItalicMT", "ABCDEF+LiberationSans", "Helvetica"] {
            let pages = pages(&pdf_of_runs(&TERM_SHEET, font)).unwrap();
            assert_eq!(pages.len(), 2);
            for (i, s) in pages.iter().enumerate() {
                assert_eq!(s.place.get("page"), Some(&serde_json::json!(i + 1)));
                let Body::Text(t) = &s.body else { panic!() };
                let broken = broken_share(TERM_SHEET[i], t);
                assert!(broken < 0.01, "{font}: {:.1}% of words broken in {t:?}", broken * 100.0);
            }
        }
    }

    #[test]
    fn unrepaired_extraction_breaks_words() {
        // The defect the repair is for, so this test fails if the fixture stops showing it.
        let text = pdf_extract::extract_text_from_mem(&pdf_of_runs(&TERM_SHEET, "ArialMT")).unwrap();
        assert!(broken_share(&TERM_SHEET.join(" "), &text) > 0.3, "{text}");
    }

    #[test]
    fn substitutes_follow_the_family_and_face() {
        assert_eq!(substitute(b"Helvetica"), None);
        assert_eq!(substitute(b"Arial,Bold"), Some("Helvetica-Bold"));
        assert_eq!(substitute(b"ABCDEF+TimesNewRomanPS-ItalicMT"), Some("Times-Italic"));
        assert_eq!(substitute(b"CourierNew,BoldItalic"), Some("Courier-BoldOblique"));
        assert_eq!(substitute(b"DejaVuSans"), Some("Helvetica"));
    }

    #[test]
    fn bad_pdfs_are_errors() {
        assert!(pages(b"%PDF-1.4 not really").is_err());
        // A form that draws itself: refused, not followed until the stack overflows.
        let draw = "/X1 Do";
        let pdf = assemble(&[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
             /Resources << /XObject << /X1 5 0 R >> >> >>"
                .into(),
            format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()),
            format!(
                "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X1 5 0 R >> >> \
                 /Length {} >>\nstream\n{draw}\nendstream",
                draw.len()
            ),
        ]);
        assert!(pages(&pdf).unwrap_err().contains("cycle"));
    }
}
