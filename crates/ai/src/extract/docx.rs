//! DOCX: a zip archive whose `word/document.xml` holds the text in `<w:t>`
//! runs, paragraphs in `<w:p>`. Read with a hard cap on uncompressed bytes,
//! whatever the archive's directory claims (zip bombs lie about sizes).

use std::io::Read;

use quick_xml::{events::Event, Reader};

use super::{ExtractError, Limits};

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<String, ExtractError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|err| ExtractError::Corrupt(format!("DOCX is not a valid zip archive: {err}")))?;
    let entry = archive
        .by_name("word/document.xml")
        .map_err(|_| ExtractError::Corrupt("DOCX has no word/document.xml".to_owned()))?;
    if entry.encrypted() {
        return Err(ExtractError::Encrypted);
    }
    let mut xml = Vec::new();
    entry
        .take(limits.max_uncompressed_bytes + 1)
        .read_to_end(&mut xml)
        .map_err(|err| ExtractError::Corrupt(format!("DOCX: {err}")))?;
    if xml.len() as u64 > limits.max_uncompressed_bytes {
        return Err(ExtractError::TooLarge(format!(
            "word/document.xml exceeds {} bytes",
            limits.max_uncompressed_bytes
        )));
    }
    paragraphs(&xml)
}

fn paragraphs(xml: &[u8]) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(tag)) if tag.name().as_ref() == b"w:t" => in_text = true,
            Ok(Event::End(tag)) => match tag.name().as_ref() {
                b"w:t" => in_text = false,
                b"w:p" => out.push('\n'),
                _ => {}
            },
            Ok(Event::Empty(tag)) if matches!(tag.name().as_ref(), b"w:tab") => out.push('\t'),
            Ok(Event::Empty(tag)) if matches!(tag.name().as_ref(), b"w:br" | b"w:cr") => {
                out.push('\n')
            }
            Ok(Event::Text(text)) if in_text => {
                let decoded = text
                    .decode()
                    .map_err(|err| ExtractError::Corrupt(format!("DOCX text: {err}")))?;
                out.push_str(&decoded);
            }
            // `&amp;`, `&#233;` inside a run: the reader hands them over apart.
            Ok(Event::GeneralRef(reference)) if in_text => {
                let corrupt = |err: &dyn std::fmt::Display| {
                    ExtractError::Corrupt(format!("DOCX entity: {err}"))
                };
                match reference.resolve_char_ref().map_err(|err| corrupt(&err))? {
                    Some(ch) => out.push(ch),
                    None => {
                        let name = reference.decode().map_err(|err| corrupt(&err))?;
                        let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| corrupt(&format!("unknown entity &{name};")))?;
                        out.push_str(resolved);
                    }
                }
            }
            Ok(Event::Eof) => break,
            Err(err) => return Err(ExtractError::Corrupt(format!("DOCX XML: {err}"))),
            Ok(_) => {}
        }
        buf.clear();
    }
    Ok(out)
}
