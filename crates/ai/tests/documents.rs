//! Extraction from real PDF and DOCX bytes, built here, including hostile ones.

use std::io::Write;

use fairgig_ai::extract::{extract, samples::pdf, DocumentKind, ExtractError, Limits, OcrStatus};

fn docx(document_xml: &[u8]) -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("[Content_Types].xml", options).expect("entry");
        zip.write_all(b"<Types/>").expect("write");
        zip.start_file("word/document.xml", options).expect("entry");
        zip.write_all(document_xml).expect("write");
        zip.finish().expect("finish");
    }
    buffer.into_inner()
}

#[test]
fn pdf_text_comes_out_page_by_page() {
    let bytes = pdf(&["Build a Rust API", "Budget EUR 4000"]);
    let out = extract(DocumentKind::Pdf, &bytes, &Limits::default()).expect("valid pdf");
    assert!(out.text.contains("Build a Rust API"), "{:?}", out.text);
    assert!(out.text.contains("Budget EUR 4000"), "{:?}", out.text);
    assert_eq!(out.pages, Some(2));
    assert_eq!(out.ocr, OcrStatus::NotNeeded);
}

#[test]
fn the_page_limit_cuts_long_pdfs() {
    let bytes = pdf(&["one", "two", "three"]);
    let out = extract(DocumentKind::Pdf, &bytes, &Limits { max_pages: 2, ..Limits::default() })
        .expect("pdf");
    assert_eq!(out.pages, Some(2));
    assert!(out.truncated);
    assert!(!out.text.contains("three"));
}

#[test]
fn encrypted_pdfs_are_refused_with_a_reason() {
    let mut bytes = pdf(&["secret"]);
    let text = String::from_utf8_lossy(&bytes).replace("/Root 1 0 R", "/Root 1 0 R /Encrypt 9 0 R");
    bytes = text.into_bytes();
    assert_eq!(
        extract(DocumentKind::Pdf, &bytes, &Limits::default()),
        Err(ExtractError::Encrypted)
    );
}

#[test]
fn broken_and_truncated_pdfs_fail_cleanly() {
    let good = pdf(&["hello"]);
    let broken_xref = String::from_utf8_lossy(&good)
        .replace("0000000009 00000 n", "0000099999 00000 n")
        .into_bytes();
    let truncated = good[..good.len() / 2].to_vec();
    let not_pdf = b"%PDF-1.4 nothing else".to_vec();
    for (bytes, what) in
        [(broken_xref, "broken xref"), (truncated, "truncated"), (not_pdf, "header only")]
    {
        // Recovery may succeed (lopdf rebuilds some xref tables); what matters is no panic.
        match extract(DocumentKind::Pdf, &bytes, &Limits::default()) {
            Ok(_) | Err(ExtractError::Corrupt(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    assert!(matches!(
        extract(DocumentKind::Pdf, b"", &Limits::default()),
        Err(ExtractError::Corrupt(_))
    ));
}

#[test]
fn docx_paragraphs_and_entities_come_out() {
    let xml = br#"<?xml version="1.0"?><w:document xmlns:w="x"><w:body>
        <w:p><w:r><w:t>Website &amp; shop &lt;caf&#233;&#x21;&gt;</w:t></w:r></w:p>
        <w:p><w:r><w:t xml:space="preserve">Deadline </w:t></w:r><w:r><w:t>2027-05-01</w:t></w:r></w:p>
        </w:body></w:document>"#;
    let out = extract(DocumentKind::Docx, &docx(xml), &Limits::default()).expect("docx");
    assert_eq!(out.text, "Website & shop <café!>\nDeadline 2027-05-01");
}

#[test]
fn a_zip_bomb_disguised_as_docx_is_refused() {
    let mut xml = b"<w:document><w:body><w:p><w:r><w:t>".to_vec();
    xml.extend(std::iter::repeat_n(b'a', 3 * 1024 * 1024));
    xml.extend_from_slice(b"</w:t></w:r></w:p></w:body></w:document>");
    let bytes = docx(&xml);
    assert!(bytes.len() < 64 * 1024, "it compresses well: {}", bytes.len());
    let limits = Limits { max_uncompressed_bytes: 1024 * 1024, ..Limits::default() };
    assert!(matches!(extract(DocumentKind::Docx, &bytes, &limits), Err(ExtractError::TooLarge(_))));
}

#[test]
fn a_docx_without_a_document_is_corrupt() {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        zip.start_file("hello.txt", zip::write::SimpleFileOptions::default()).expect("entry");
        zip.write_all(b"hi").expect("write");
        zip.finish().expect("finish");
    }
    let result = extract(DocumentKind::Docx, &buffer.into_inner(), &Limits::default());
    assert!(
        matches!(result, Err(ExtractError::Corrupt(message)) if message.contains("document.xml"))
    );
}
