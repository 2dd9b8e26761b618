//! A small page layout on `pdf-writer`: the 14 standard PDF fonts (no font
//! file is embedded, so the text is real, selectable text that `pdftotext`
//! and a screen reader read back), left-aligned lines that wrap, and QR
//! codes drawn as filled rectangles (vectors, sharp at any printer's
//! resolution). Output is deterministic: no dates, no random ids.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// A paper size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm.
    #[default]
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl Paper {
    /// Width and height in PDF points (1/72 in).
    pub fn size(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.276, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }

    /// `a4` or `letter`.
    pub fn name(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }

    /// Reads `a4` or `letter` (any case).
    pub fn parse(text: &str) -> Option<Paper> {
        match text.trim().to_ascii_lowercase().as_str() {
            "a4" => Some(Paper::A4),
            "letter" | "us-letter" => Some(Paper::Letter),
            _ => None,
        }
    }
}

/// One of the standard fonts the sheets use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    /// Helvetica.
    Sans,
    /// Helvetica-Bold.
    SansBold,
    /// Courier: every glyph 0.6 em wide.
    Mono,
    /// Courier-Bold.
    MonoBold,
}

impl Font {
    const ALL: [Font; 4] = [Font::Sans, Font::SansBold, Font::Mono, Font::MonoBold];

    fn resource(self) -> Name<'static> {
        Name(match self {
            Font::Sans => b"F1",
            Font::SansBold => b"F2",
            Font::Mono => b"F3",
            Font::MonoBold => b"F4",
        })
    }

    fn base(self) -> Name<'static> {
        Name(match self {
            Font::Sans => b"Helvetica",
            Font::SansBold => b"Helvetica-Bold",
            Font::Mono => b"Courier",
            Font::MonoBold => b"Courier-Bold",
        })
    }

    /// A width per character (in em) for wrapping: exact for Courier; for
    /// Helvetica, above the average of English text (about 0.5 em) so
    /// wrapped sentences stay inside the margins.
    fn em_per_char(self) -> f32 {
        match self {
            Font::Mono | Font::MonoBold => 0.6,
            Font::Sans => 0.55,
            Font::SansBold => 0.6,
        }
    }
}

/// Encodes text for the standard fonts' WinAnsiEncoding. Characters it has
/// no code for become `?` (the sheets' own words are ASCII; a name in
/// another script still reads back exactly from the QR code and the line).
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            '\t' => b' ',
            _ => b'?',
        })
        .collect()
}

enum Op {
    Text {
        font: Font,
        size: f32,
        x: f32,
        y: f32,
        text: String,
    },
    Rects(Vec<(f32, f32, f32, f32)>),
    Rule {
        x: f32,
        y: f32,
        w: f32,
    },
}

/// Sheets being laid out: a cursor that moves down the page and starts a
/// new page when the next block does not fit.
pub struct Layout {
    paper: Paper,
    footer: String,
    pages: Vec<Vec<Op>>,
    y: f32,
    baseline: f32,
}

/// Page margin in points (about 18 mm).
pub const MARGIN: f32 = 50.0;
const FOOTER_SIZE: f32 = 8.0;

impl Layout {
    /// An empty document whose pages all carry `footer` (and a page count).
    pub fn new(paper: Paper, footer: &str) -> Layout {
        let (_, h) = paper.size();
        Layout {
            paper,
            footer: footer.to_string(),
            pages: vec![Vec::new()],
            y: h - MARGIN,
            baseline: h - MARGIN,
        }
    }

    /// The width lines may use.
    pub fn width(&self) -> f32 {
        self.paper.size().0 - 2.0 * MARGIN
    }

    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page.
    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.paper.size().1 - MARGIN;
    }

    /// Makes room for a block `height` tall, starting a new page if needed.
    pub fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN + 2.0 * FOOTER_SIZE && !self.page().is_empty() {
            self.new_page();
        }
    }

    /// Pages so far.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Vertical space.
    pub fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    /// The characters of `font` at `size` that fit in `width`.
    pub fn fits(font: Font, size: f32, width: f32) -> usize {
        ((width / (font.em_per_char() * size)).floor() as usize).max(1)
    }

    /// A paragraph: wrapped at spaces to the page width (a word longer
    /// than a line is cut), indented by `indent` points.
    pub fn para(&mut self, font: Font, size: f32, indent: f32, text: &str) {
        let max = Self::fits(font, size, self.width() - indent);
        for line in wrap(text, max) {
            self.line_at(font, size, indent, &line);
        }
    }

    /// One line, not wrapped (the caller made it fit).
    pub fn line_at(&mut self, font: Font, size: f32, indent: f32, text: &str) {
        let lead = size * 1.3;
        self.ensure(lead);
        self.y -= size;
        self.baseline = self.y;
        let (x, y) = (MARGIN + indent, self.y);
        self.page().push(Op::Text {
            font,
            size,
            x,
            y,
            text: text.to_string(),
        });
        self.y -= lead - size;
    }

    /// Text on the baseline of the last line [`Layout::line_at`] drew, at
    /// `x_from_margin`: a second column, or a label beside a line.
    pub fn beside(&mut self, font: Font, size: f32, x_from_margin: f32, text: &str) {
        let y = self.baseline;
        let x = MARGIN + x_from_margin;
        self.page().push(Op::Text {
            font,
            size,
            x,
            y,
            text: text.to_string(),
        });
    }

    /// A thin horizontal rule across the page.
    pub fn rule(&mut self) {
        self.ensure(8.0);
        self.y -= 4.0;
        let (x, y, w) = (MARGIN, self.y, self.width());
        self.page().push(Op::Rule { x, y, w });
        self.y -= 4.0;
    }

    /// The cursor's height on the page.
    pub fn y(&self) -> f32 {
        self.y
    }

    /// Moves the cursor down to `y` if it is above it (after a block drawn
    /// beside another).
    pub fn below(&mut self, y: f32) {
        self.y = self.y.min(y);
    }

    /// A QR code of `modules` × `modules` (dark where `dark(x, y)`), drawn
    /// with a quiet zone of four modules, each module `module` points wide.
    /// Below the cursor at `indent` from the margin, moving the cursor past
    /// it; or, with `right`, against the right margin from the cursor down,
    /// leaving the cursor where it is (the caller draws beside it, then
    /// calls [`Layout::below`]). Returns the side in points.
    pub fn qr(
        &mut self,
        modules: usize,
        dark: &dyn Fn(usize, usize) -> bool,
        module: f32,
        indent: f32,
        right: bool,
    ) -> f32 {
        let quiet = 4.0 * module;
        let side = modules as f32 * module + 2.0 * quiet;
        self.ensure(side);
        let top = self.y - quiet;
        let left = if right {
            MARGIN + self.width() - side + quiet
        } else {
            MARGIN + indent + quiet
        };
        let mut rects = Vec::new();
        for y in 0..modules {
            let mut x = 0;
            while x < modules {
                if dark(x, y) {
                    let start = x;
                    while x < modules && dark(x, y) {
                        x += 1;
                    }
                    rects.push((
                        left + start as f32 * module,
                        top - (y + 1) as f32 * module,
                        (x - start) as f32 * module,
                        module,
                    ));
                } else {
                    x += 1;
                }
            }
        }
        self.page().push(Op::Rects(rects));
        if !right {
            self.y -= side;
        }
        side
    }

    /// The finished PDF: pages, fonts, document title; uncompressed content
    /// streams so the text is plain to any reader.
    pub fn finish(self, title: &str) -> Vec<u8> {
        let (w, h) = self.paper.size();
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        let font_ref = |i: usize| Ref::new(4 + i as i32);
        let first_page = 4 + Font::ALL.len() as i32;
        let n = self.pages.len();
        let page_ref = |i: usize| Ref::new(first_page + 2 * i as i32);
        let content_ref = |i: usize| Ref::new(first_page + 2 * i as i32 + 1);
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids((0..n).map(page_ref))
            .count(i32::try_from(n).unwrap_or(i32::MAX));
        pdf.document_info(info)
            .title(TextStr(title))
            .creator(TextStr("custodian"));
        for (i, f) in Font::ALL.iter().enumerate() {
            pdf.type1_font(font_ref(i))
                .base_font(f.base())
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        for (i, ops) in self.pages.iter().enumerate() {
            let mut page = pdf.page(page_ref(i));
            page.media_box(Rect::new(0.0, 0.0, w, h))
                .parent(tree)
                .contents(content_ref(i));
            {
                let mut res = page.resources();
                let mut fonts = res.fonts();
                for (k, f) in Font::ALL.iter().enumerate() {
                    fonts.pair(f.resource(), font_ref(k));
                }
                fonts.finish();
            }
            page.finish();
            let mut c = Content::new();
            for op in ops {
                draw(&mut c, op);
            }
            let footer = format!("{}   ·   page {} of {}", self.footer, i + 1, n);
            draw(
                &mut c,
                &Op::Text {
                    font: Font::Sans,
                    size: FOOTER_SIZE,
                    x: MARGIN,
                    y: MARGIN - FOOTER_SIZE,
                    text: footer,
                },
            );
            let bytes = c.finish();
            pdf.stream(content_ref(i), &bytes);
        }
        pdf.finish()
    }
}

fn draw(c: &mut Content, op: &Op) {
    match op {
        Op::Text {
            font,
            size,
            x,
            y,
            text,
        } => {
            c.begin_text();
            c.set_font(font.resource(), *size);
            c.next_line(*x, *y);
            c.show(Str(&win_ansi(text)));
            c.end_text();
        }
        Op::Rects(rects) => {
            c.set_fill_gray(0.0);
            for (x, y, w, h) in rects {
                c.rect(*x, *y, *w, *h);
            }
            c.fill_nonzero();
        }
        Op::Rule { x, y, w } => {
            c.set_line_width(0.5);
            c.move_to(*x, *y);
            c.line_to(*x + *w, *y);
            c.stroke();
        }
    }
}

/// Splits `text` into lines of at most `max` characters at spaces; a word
/// longer than `max` is cut. Line breaks in `text` are kept.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let mut word = word.to_string();
            loop {
                let have = line.chars().count();
                let need = word.chars().count() + usize::from(have > 0);
                if have + need <= max {
                    if have > 0 {
                        line.push(' ');
                    }
                    line.push_str(&word);
                    break;
                }
                if have > 0 {
                    out.push(std::mem::take(&mut line));
                    continue;
                }
                // A word longer than a line.
                let cut: String = word.chars().take(max).collect();
                word = word.chars().skip(max).collect();
                out.push(cut);
                if word.is_empty() {
                    break;
                }
            }
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_cuts_only_overlong_ones() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
        assert_eq!(wrap("", 10), vec![""]);
    }

    #[test]
    fn win_ansi_maps_latin_1_and_the_common_punctuation() {
        assert_eq!(win_ansi("Zoë — ok…"), b"Zo\xeb \x97 ok\x85".to_vec());
        assert_eq!(win_ansi("Łx"), b"?x".to_vec());
    }

    #[test]
    fn a_document_has_its_pages_fonts_and_text() {
        let mut l = Layout::new(Paper::Letter, "footer");
        l.para(Font::Sans, 12.0, 0.0, "hello (world) \\ back");
        for _ in 0..80 {
            l.line_at(Font::Mono, 10.0, 0.0, "line");
        }
        assert_eq!(l.pages(), 2);
        let pdf = l.finish("t");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-"));
        assert!(text.contains("/MediaBox [0 0 612 792]"));
        assert!(text.contains("/BaseFont /Courier"));
        // Balanced parentheses may stay unescaped; the backslash may not.
        assert!(
            text.contains("(hello ") && text.contains("world") && text.contains("\\\\ back) Tj")
        );
        // The footer holds a non-ASCII byte (·), so it is written in hex.
        let hex: String = b"page 2 of 2".iter().map(|b| format!("{b:02X}")).collect();
        assert!(text.contains(&hex));
    }
}
