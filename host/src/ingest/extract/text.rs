//! Text formats: plain text and YAML as they are, Markdown split at its headings
//! (`pulldown-cmark` finds them), HTML through `html2text`, JSON pretty-printed by `serde_json`.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use serde_json::Value;

use super::{Body, Place, Section, utf8};

/// Lines wider than this are not re-wrapped by the HTML renderer.
const HTML_WIDTH: usize = 100_000;

/// One section of UTF-8 text. Errors: not UTF-8.
pub fn plain(bytes: &[u8]) -> Result<Vec<Section>, String> {
    Ok(vec![Section::text(Place::new(), utf8(bytes)?.to_string())])
}

/// The Markdown document as one section, with the offset and heading path of each heading
/// (`pulldown-cmark` finds them; a heading's path is the headings of lower level in force before
/// it, then itself). Errors: not UTF-8.
pub fn markdown(bytes: &[u8]) -> Result<Vec<Section>, String> {
    let md = utf8(bytes)?;
    let mut headings: Vec<(usize, Vec<String>)> = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut open: Option<(usize, usize, String)> = None;
    for (event, range) in Parser::new(md).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => open = Some((range.start, level_of(level), String::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, level, title)) = open.take() {
                    path.retain(|(l, _)| *l < level);
                    path.push((level, title.trim().to_string()));
                    headings.push((start, path.iter().map(|(_, t)| t.clone()).collect()));
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, text)) = open.as_mut() {
                    text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    Ok(vec![Section { place: Place::new(), body: Body::Markdown { text: md.to_string(), headings } }])
}

fn level_of(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The text of an HTML page, without markup, scripts or styles. Errors: a page `html2text` cannot read.
pub fn html(bytes: &[u8]) -> Result<Vec<Section>, String> {
    let text = html2text::config::plain_no_decorate()
        .string_from_read(bytes, HTML_WIDTH)
        .map_err(|e| format!("cannot read the HTML: {e}"))?;
    Ok(vec![Section::text(Place::new(), text)])
}

/// A JSON file, pretty-printed (so a one-line file chunks at its structure). Errors: not JSON,
/// naming the line and column.
pub fn json(bytes: &[u8]) -> Result<Vec<Section>, String> {
    let value: Value = serde_json::from_str(utf8(bytes)?).map_err(|e| format!("not valid JSON: {e}"))?;
    let pretty = serde_json::to_string_pretty(&value).map_err(|e| format!("cannot print the JSON: {e}"))?;
    Ok(vec![Section::text(Place::new(), pretty)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_headings_carry_their_path() {
        let md = "Intro line.\n\n# Deal\n\nTerms.\n\n## Preference\n\nOne times.\n\n## Board\n\nFive seats.\n\n# Risks\n\nMarket.\n";
        let s = markdown(md.as_bytes()).unwrap();
        let Body::Markdown { text, headings } = &s[0].body else { panic!() };
        assert_eq!(text, md);
        let want: Vec<(usize, Vec<String>)> = [
            ("# Deal", vec!["Deal"]),
            ("## Preference", vec!["Deal", "Preference"]),
            ("## Board", vec!["Deal", "Board"]),
            ("# Risks", vec!["Risks"]),
        ]
        .iter()
        .map(|(h, p)| (md.find(h).unwrap(), p.iter().map(|s| s.to_string()).collect()))
        .collect();
        assert_eq!(headings, &want);
    }

    #[test]
    fn html_becomes_text_without_markup() {
        let page = b"<html><head><title>T</title><style>p{color:red}</style></head>\
                     <body><h1>Install</h1><p>Run <b>make</b> first.</p><script>x()</script></body></html>";
        let Body::Text(t) = &html(page).unwrap()[0].body else { panic!() };
        assert!(t.contains("Install") && t.contains("Run make first."), "{t}");
        assert!(!t.contains('<') && !t.contains("color:red"), "{t}");
    }

    #[test]
    fn json_is_pretty_printed_and_checked() {
        let Body::Text(t) = &json(br#"{"deal":{"stage":"Series A","amount":12}}"#).unwrap()[0].body else { panic!() };
        assert!(t.contains("\"stage\": \"Series A\"") && t.lines().count() > 3, "{t}");
        assert!(json(b"{\"a\": ").unwrap_err().contains("line 1"));
        assert!(json(b"\xef\xbb\xbf{\"a\": 1}").is_ok(), "a byte-order mark is dropped");
        assert!(plain(&[0xff, 0xfe, 0x00]).unwrap_err().contains("UTF-8"));
    }
}
