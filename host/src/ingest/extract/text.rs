//! Text formats: plain text and YAML as they are, Markdown split at its headings
//! (`pulldown-cmark` finds them), HTML through `html2text`, JSON pretty-printed by `serde_json`.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use serde_json::Value;

use super::{Body, Place, Section, place, utf8};

/// Lines wider than this are not re-wrapped by the HTML renderer.
const HTML_WIDTH: usize = 100_000;

/// One section of UTF-8 text. Errors: not UTF-8.
pub fn plain(bytes: &[u8]) -> Result<Vec<Section>, String> {
    Ok(vec![Section::text(Place::new(), utf8(bytes)?.to_string())])
}

/// A section per Markdown heading, holding the heading and the text up to the next heading of
/// any level, placed by its heading path (`headings`: outermost first); text before the first
/// heading has no path. Errors: not UTF-8.
pub fn markdown(bytes: &[u8]) -> Result<Vec<Section>, String> {
    let md = utf8(bytes)?;
    // (offset where the heading starts, its level, its text)
    let mut heads: Vec<(usize, usize, String)> = Vec::new();
    let mut open: Option<(usize, usize, String)> = None;
    for (event, range) in Parser::new(md).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => open = Some((range.start, level_of(level), String::new())),
            Event::End(TagEnd::Heading(_)) => heads.extend(open.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, text)) = open.as_mut() {
                    text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let first = heads.first().map_or(md.len(), |h| h.0);
    out.push(Section { place: Place::new(), body: Body::Markdown(md[..first].to_string()) });
    let mut path: Vec<(usize, String)> = Vec::new();
    for (i, (start, level, title)) in heads.iter().enumerate() {
        path.retain(|(l, _)| l < level);
        path.push((*level, title.trim().to_string()));
        let end = heads.get(i + 1).map_or(md.len(), |h| h.0);
        let names: Vec<Value> = path.iter().map(|(_, t)| Value::from(t.clone())).collect();
        out.push(Section { place: place("headings", names), body: Body::Markdown(md[*start..end].to_string()) });
    }
    Ok(out)
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
    fn markdown_sections_carry_their_heading_path() {
        let md = "Intro line.\n\n# Deal\n\nTerms.\n\n## Preference\n\nOne times.\n\n## Board\n\nFive seats.\n\n# Risks\n\nMarket.\n";
        let s = markdown(md.as_bytes()).unwrap();
        let paths: Vec<Value> = s.iter().map(|s| s.place.get("headings").cloned().unwrap_or(Value::Null)).collect();
        assert_eq!(
            paths,
            vec![
                Value::Null,
                serde_json::json!(["Deal"]),
                serde_json::json!(["Deal", "Preference"]),
                serde_json::json!(["Deal", "Board"]),
                serde_json::json!(["Risks"]),
            ]
        );
        assert_eq!(s[2].body, Body::Markdown("## Preference\n\nOne times.\n\n".into()));
        let whole: String = s.iter().map(|s| if let Body::Markdown(t) = &s.body { t.as_str() } else { "" }).collect();
        assert_eq!(whole, md, "the sections cover the file exactly");
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
