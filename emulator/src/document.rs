//! Stored documents: type sniffing, spooling to disk, and the single pass
//! over the bytes that computes size, SHA-256, PDF page count and PDF text.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// Uploads up to this size stay in memory; larger ones move to a file.
const MEMORY_SPOOL_BYTES: usize = 4 * 1024 * 1024;
/// Bytes examined for type sniffing. A PDF header may start anywhere in the
/// first 1024 bytes, as Acrobat tolerates.
const SNIFF_BYTES: usize = 1024;
const MAX_TEXT_LINES: usize = 10_000;
/// Text is collected from this many leading bytes only, so that huge
/// uploads are not slowed by the byte-level lexer. Page counting covers the
/// whole document.
const TEXT_SCAN_BYTES: u64 = 64 * 1024 * 1024;
const MAX_STRING_BYTES: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocKind {
    Pdf,
    Png,
    Jpeg,
    Tiff,
    Gif,
}

impl DocKind {
    pub fn mime_type(self) -> &'static str {
        match self {
            DocKind::Pdf => "application/pdf",
            DocKind::Png => "image/png",
            DocKind::Jpeg => "image/jpeg",
            DocKind::Tiff => "image/tiff",
            DocKind::Gif => "image/gif",
        }
    }
}

/// Detects the document type from its first bytes. On failure returns a
/// description of what was found instead.
pub fn sniff(head: &[u8]) -> Result<DocKind, String> {
    if head.is_empty() {
        return Err("the document is empty".to_string());
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(DocKind::Png);
    }
    if head.starts_with(&[0xff, 0xd8, 0xff]) {
        return Ok(DocKind::Jpeg);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Ok(DocKind::Tiff);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Ok(DocKind::Gif);
    }
    let window = &head[..head.len().min(SNIFF_BYTES)];
    if window.windows(5).any(|w| w == b"%PDF-") {
        return Ok(DocKind::Pdf);
    }
    let found = if head.starts_with(b"PK\x03\x04") {
        "a ZIP archive (such as DOCX or XLSX)"
    } else if head.starts_with(b"BM") {
        "a BMP image"
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        "a WebP image"
    } else if head.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        "a legacy Microsoft Office document"
    } else if window.iter().all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80) {
        "plain text"
    } else {
        "unrecognised binary data"
    };
    Err(format!("the document looks like {found}"))
}

pub enum Storage {
    Memory(Vec<u8>),
    Disk(PathBuf),
}

/// An accepted document and the facts computed while receiving it.
pub struct Document {
    pub kind: DocKind,
    pub size: u64,
    pub sha256: String,
    pub page_count: u32,
    /// Strings shown by `Tj`, `TJ`, `'` and `"` in uncompressed PDF content,
    /// one entry per text-showing operator, in file order.
    pub text_lines: Vec<String>,
    pub storage: Storage,
}

impl Drop for Document {
    fn drop(&mut self) {
        if let Storage::Disk(path) = &self.storage {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub enum SpoolError {
    TooLarge { max: u64 },
    Unsupported(String),
    Io(io::Error),
}

/// Receives a document in pieces, keeping one copy: in memory while small,
/// then in a spool file.
pub struct Spool {
    max_bytes: u64,
    memory: Vec<u8>,
    disk: Option<(BufWriter<File>, PathBuf)>,
    spill_path: Box<dyn FnMut() -> io::Result<PathBuf> + Send>,
    size: u64,
    hasher: Sha256,
    head: Vec<u8>,
    kind: Option<DocKind>,
    pdf: PdfScanner,
}

impl Spool {
    /// `spill_path` is called once, when the document outgrows memory.
    pub fn new(max_bytes: u64, spill_path: Box<dyn FnMut() -> io::Result<PathBuf> + Send>) -> Spool {
        Spool {
            max_bytes,
            memory: Vec::new(),
            disk: None,
            spill_path,
            size: 0,
            hasher: Sha256::new(),
            head: Vec::new(),
            kind: None,
            pdf: PdfScanner::default(),
        }
    }

    pub fn write(&mut self, chunk: &[u8]) -> Result<(), SpoolError> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.size += chunk.len() as u64;
        if self.size > self.max_bytes {
            return Err(SpoolError::TooLarge { max: self.max_bytes });
        }
        self.hasher.update(chunk);
        if self.kind.is_none() {
            let wanted = SNIFF_BYTES - self.head.len();
            self.head.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
            if self.head.len() == SNIFF_BYTES {
                self.kind = Some(sniff(&self.head).map_err(SpoolError::Unsupported)?);
            }
        }
        if self.kind.is_none() || self.kind == Some(DocKind::Pdf) {
            self.pdf.feed(chunk);
        }
        if let Some((writer, _)) = &mut self.disk {
            return writer.write_all(chunk).map_err(SpoolError::Io);
        }
        if self.memory.len() + chunk.len() <= MEMORY_SPOOL_BYTES {
            self.memory.extend_from_slice(chunk);
            return Ok(());
        }
        let path = (self.spill_path)().map_err(SpoolError::Io)?;
        let mut writer = BufWriter::with_capacity(256 * 1024, File::create(&path).map_err(SpoolError::Io)?);
        writer.write_all(&self.memory).map_err(SpoolError::Io)?;
        writer.write_all(chunk).map_err(SpoolError::Io)?;
        self.memory = Vec::new();
        self.disk = Some((writer, path));
        Ok(())
    }

    pub fn finish(mut self) -> Result<Document, SpoolError> {
        let kind = match self.kind {
            Some(kind) => kind,
            None => sniff(&self.head).map_err(SpoolError::Unsupported)?,
        };
        let storage = match self.disk.take() {
            Some((writer, path)) => {
                writer.into_inner().map_err(|e| SpoolError::Io(e.into_error()))?;
                Storage::Disk(path)
            }
            None => Storage::Memory(std::mem::take(&mut self.memory)),
        };
        let scan = std::mem::take(&mut self.pdf).finish();
        let (page_count, text_lines) = match kind {
            // Pages inside compressed object streams are invisible to the
            // scan, and every PDF has at least one page.
            DocKind::Pdf => (scan.pages.max(1), scan.lines),
            DocKind::Tiff => (tiff_page_count(&storage).unwrap_or(1), Vec::new()),
            _ => (1, Vec::new()),
        };
        Ok(Document {
            kind,
            size: self.size,
            sha256: crate::util::hex(&self.hasher.finalize_reset()),
            page_count,
            text_lines,
            storage,
        })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // A spool dropped before finish() belongs to a rejected upload.
        if let Some((_, path)) = self.disk.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Counts the image file directories of a TIFF held in memory.
fn tiff_page_count(storage: &Storage) -> Option<u32> {
    let Storage::Memory(bytes) = storage else {
        return None;
    };
    let little = bytes.starts_with(b"II");
    let read_u16 = |at: usize| -> Option<u32> {
        let b = bytes.get(at..at + 2)?;
        Some(if little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) } as u32)
    };
    let read_u32 = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    let mut offset = read_u32(4)? as usize;
    let mut pages = 0;
    // Bound the walk so a loop in the IFD chain cannot hang the server.
    while offset != 0 && pages < 10_000 {
        let entries = read_u16(offset)? as usize;
        pages += 1;
        offset = read_u32(offset + 2 + entries * 12)? as usize;
    }
    (pages > 0).then_some(pages)
}

pub struct PdfScan {
    pub pages: u32,
    pub lines: Vec<String>,
}

/// A byte-at-a-time scanner over PDF source, so it works on a stream of
/// chunks of any size. It counts `/Type /Page` (not `/Pages`) and collects
/// strings shown by text operators outside filtered (compressed) streams.
#[derive(Default)]
pub struct PdfScanner {
    pages: u32,
    page_match: PageMatch,
    lexer: Lexer,
    /// Bytes of the strings seen since the last operator.
    pending_text: Vec<u8>,
    lines: Vec<String>,
    in_array: bool,
    /// Whether the current object's dictionary has a /Filter entry.
    object_filtered: bool,
    last_name: Vec<u8>,
    skip_stream_progress: Option<usize>,
    text_bytes_scanned: u64,
}

#[derive(Default, Clone, Copy)]
enum PageMatch {
    #[default]
    Idle,
    /// Matched this many bytes of `/Type`.
    Type(usize),
    /// Matched `/Type` and optional whitespace.
    AfterType,
    /// Matched this many bytes of `/Page`.
    Page(usize),
    /// Matched `/Type /Page`; the next byte decides between Page and Pages.
    AfterPage,
}

#[derive(Default)]
enum Lexer {
    #[default]
    Normal,
    Comment,
    Word(Vec<u8>),
    Name(Vec<u8>),
    LiteralString { depth: u32, bytes: Vec<u8> },
    Escape { depth: u32, bytes: Vec<u8> },
    Octal { depth: u32, bytes: Vec<u8>, value: u32, digits: u32 },
    /// Seen `<`; a second `<` opens a dictionary, anything else a hex string.
    AngleOpen,
    HexString { bytes: Vec<u8>, high: Option<u8> },
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

impl PdfScanner {
    pub fn feed(&mut self, chunk: &[u8]) {
        self.count_pages_in(chunk);
        let text_budget = TEXT_SCAN_BYTES.saturating_sub(self.text_bytes_scanned);
        let text_part = &chunk[..chunk.len().min(text_budget as usize)];
        self.text_bytes_scanned += text_part.len() as u64;
        for &b in text_part {
            if self.lines.len() >= MAX_TEXT_LINES {
                break;
            }
            self.lex(b);
        }
    }

    /// Runs the page matcher over a chunk, jumping between `/` bytes
    /// while no match is in progress.
    fn count_pages_in(&mut self, chunk: &[u8]) {
        let mut i = 0;
        while i < chunk.len() {
            if matches!(self.page_match, PageMatch::Idle) {
                match memchr::memchr(b'/', &chunk[i..]) {
                    Some(at) => i += at,
                    None => return,
                }
            }
            self.count_pages(chunk[i]);
            i += 1;
        }
    }

    pub fn finish(mut self) -> PdfScan {
        if matches!(self.page_match, PageMatch::AfterPage) {
            self.pages += 1;
        }
        self.lex(b'\n');
        PdfScan { pages: self.pages, lines: self.lines }
    }

    fn count_pages(&mut self, b: u8) {
        const TYPE: &[u8] = b"/Type";
        const PAGE: &[u8] = b"/Page";
        self.page_match = match self.page_match {
            PageMatch::Type(n) if TYPE[n] == b => {
                if n + 1 == TYPE.len() {
                    PageMatch::AfterType
                } else {
                    PageMatch::Type(n + 1)
                }
            }
            PageMatch::AfterType if is_whitespace(b) => PageMatch::AfterType,
            PageMatch::AfterType if b == b'/' => PageMatch::Page(1),
            PageMatch::Page(n) if PAGE[n] == b => {
                if n + 1 == PAGE.len() {
                    PageMatch::AfterPage
                } else {
                    PageMatch::Page(n + 1)
                }
            }
            PageMatch::AfterPage if is_regular(b) => PageMatch::Idle,
            PageMatch::AfterPage => {
                self.pages += 1;
                if b == b'/' {
                    PageMatch::Type(1)
                } else {
                    PageMatch::Idle
                }
            }
            _ if b == b'/' => PageMatch::Type(1),
            _ => PageMatch::Idle,
        };
    }

    fn lex(&mut self, b: u8) {
        if let Some(progress) = self.skip_stream_progress {
            const END: &[u8] = b"endstream";
            let progress = if END[progress] == b {
                progress + 1
            } else if b == b'e' {
                1
            } else {
                0
            };
            self.skip_stream_progress = if progress == END.len() { None } else { Some(progress) };
            return;
        }
        let state = std::mem::take(&mut self.lexer);
        self.lexer = match state {
            Lexer::Normal => self.start_token(b),
            Lexer::Comment => {
                if b == b'\r' || b == b'\n' {
                    Lexer::Normal
                } else {
                    Lexer::Comment
                }
            }
            Lexer::Word(mut word) => {
                if is_regular(b) {
                    if word.len() < 16 {
                        word.push(b);
                    }
                    Lexer::Word(word)
                } else {
                    self.end_word(&word);
                    if self.skip_stream_progress.is_some() {
                        Lexer::Normal
                    } else {
                        self.start_token(b)
                    }
                }
            }
            Lexer::Name(mut name) => {
                if is_regular(b) {
                    if name.len() < 32 {
                        name.push(b);
                    }
                    Lexer::Name(name)
                } else {
                    if name == b"Filter" {
                        self.object_filtered = true;
                    }
                    self.last_name = name;
                    self.start_token(b)
                }
            }
            Lexer::LiteralString { depth, mut bytes } => match b {
                b'\\' => Lexer::Escape { depth, bytes },
                b'(' => {
                    push_limited(&mut bytes, b);
                    Lexer::LiteralString { depth: depth + 1, bytes }
                }
                b')' if depth == 1 => {
                    self.pending_text.extend_from_slice(&bytes);
                    Lexer::Normal
                }
                b')' => {
                    push_limited(&mut bytes, b);
                    Lexer::LiteralString { depth: depth - 1, bytes }
                }
                _ => {
                    push_limited(&mut bytes, b);
                    Lexer::LiteralString { depth, bytes }
                }
            },
            Lexer::Escape { depth, mut bytes } => {
                let translated = match b {
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'b' => Some(0x08),
                    b'f' => Some(0x0c),
                    b'0'..=b'7' => {
                        return self.lexer = Lexer::Octal { depth, bytes, value: (b - b'0') as u32, digits: 1 };
                    }
                    // A backslash before an end of line continues the string.
                    b'\r' | b'\n' => None,
                    other => Some(other),
                };
                if let Some(t) = translated {
                    push_limited(&mut bytes, t);
                }
                Lexer::LiteralString { depth, bytes }
            }
            Lexer::Octal { depth, mut bytes, value, digits } => {
                if (b'0'..=b'7').contains(&b) && digits < 3 {
                    Lexer::Octal { depth, bytes, value: value * 8 + (b - b'0') as u32, digits: digits + 1 }
                } else {
                    push_limited(&mut bytes, (value & 0xff) as u8);
                    self.lexer = Lexer::LiteralString { depth, bytes };
                    return self.lex(b);
                }
            }
            Lexer::AngleOpen => {
                if b == b'<' {
                    Lexer::Normal
                } else {
                    self.lexer = Lexer::HexString { bytes: Vec::new(), high: None };
                    return self.lex(b);
                }
            }
            Lexer::HexString { mut bytes, high } => {
                if b == b'>' {
                    if let Some(h) = high {
                        push_limited(&mut bytes, h << 4);
                    }
                    self.pending_text.extend_from_slice(&bytes);
                    Lexer::Normal
                } else if let Some(v) = (b as char).to_digit(16) {
                    match high {
                        Some(h) => {
                            push_limited(&mut bytes, h << 4 | v as u8);
                            Lexer::HexString { bytes, high: None }
                        }
                        None => Lexer::HexString { bytes, high: Some(v as u8) },
                    }
                } else {
                    Lexer::HexString { bytes, high }
                }
            }
        };
    }

    fn start_token(&mut self, b: u8) -> Lexer {
        match b {
            b'%' => Lexer::Comment,
            b'(' => Lexer::LiteralString { depth: 1, bytes: Vec::new() },
            b'<' => Lexer::AngleOpen,
            b'/' => Lexer::Name(Vec::new()),
            b'[' => {
                self.in_array = true;
                self.pending_text.clear();
                Lexer::Normal
            }
            b']' => {
                self.in_array = false;
                Lexer::Normal
            }
            _ if is_regular(b) => Lexer::Word(vec![b]),
            _ => Lexer::Normal,
        }
    }

    fn end_word(&mut self, word: &[u8]) {
        match word {
            b"Tj" | b"TJ" | b"'" | b"\"" => {
                let text = std::mem::take(&mut self.pending_text);
                self.emit_line(&text);
            }
            b"obj" | b"endobj" => self.object_filtered = false,
            b"stream" => {
                if self.object_filtered {
                    self.skip_stream_progress = Some(0);
                }
            }
            _ => {
                let is_number = word.iter().all(|&c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.'));
                if is_number {
                    // Inside a TJ array a large negative adjustment moves
                    // the pen right by about a space.
                    let kerning = std::str::from_utf8(word).ok().and_then(|t| t.parse::<f64>().ok());
                    if self.in_array && kerning.is_some_and(|k| k < -150.0) && !self.pending_text.is_empty() {
                        self.pending_text.push(b' ');
                    }
                } else {
                    self.pending_text.clear();
                }
            }
        }
    }

    fn emit_line(&mut self, bytes: &[u8]) {
        let text = decode_pdf_text(bytes);
        let text = text.trim();
        if !text.is_empty() && self.lines.len() < MAX_TEXT_LINES {
            self.lines.push(text.to_string());
        }
    }
}

fn push_limited(bytes: &mut Vec<u8>, b: u8) {
    if bytes.len() < MAX_STRING_BYTES {
        bytes.push(b);
    }
}

/// Decodes a PDF text string: UTF-16BE with a byte order mark, otherwise
/// Latin-1 as an approximation of PDFDocEncoding.
fn decode_pdf_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(source: &[u8], chunk: usize) -> PdfScan {
        let mut scanner = PdfScanner::default();
        for piece in source.chunks(chunk) {
            scanner.feed(piece);
        }
        scanner.finish()
    }

    #[test]
    fn pdf_page_count_ignores_pages_node() {
        let source = b"%PDF-1.4\n1 0 obj <</Type /Pages /Kids [2 0 R 3 0 R]>> endobj\n\
            2 0 obj <</Type /Page>> endobj 3 0 obj <</Type/Page/Parent 1 0 R>> endobj";
        for chunk in [1, 3, 7, 1000] {
            assert_eq!(scan(source, chunk).pages, 2, "chunk size {chunk}");
        }
    }

    #[test]
    fn pdf_text_operators() {
        let source = b"BT /F1 12 Tf (Acme \\(Pty\\) Ltd) Tj 0 -14 Td [(Invoice)-250(Number: 7)] TJ \
            <48692021> Tj (\\101\\102C) ' ET";
        for chunk in [1, 5, 1000] {
            let lines = scan(source, chunk).lines;
            assert_eq!(lines, vec!["Acme (Pty) Ltd", "Invoice Number: 7", "Hi !", "ABC"], "chunk size {chunk}");
        }
    }

    #[test]
    fn pdf_text_skips_filtered_streams() {
        let source = b"4 0 obj <</Length 9 /Filter /FlateDecode>> stream\n(junk) Tj\nendstream endobj \
            5 0 obj <</Length 9>> stream\n(shown) Tj\nendstream endobj";
        assert_eq!(scan(source, 4).lines, vec!["shown"]);
    }

    #[test]
    fn sniff_types() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Ok(DocKind::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Ok(DocKind::Png));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Ok(DocKind::Jpeg));
        assert_eq!(sniff(b"II*\0abcd"), Ok(DocKind::Tiff));
        assert_eq!(sniff(b"GIF89a.."), Ok(DocKind::Gif));
        assert!(sniff(b"hello world").unwrap_err().contains("plain text"));
        assert!(sniff(b"").unwrap_err().contains("empty"));
        assert!(sniff(b"PK\x03\x04zip").unwrap_err().contains("ZIP"));
    }
}
