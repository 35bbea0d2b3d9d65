//! The letter as a one-page A4 PDF, written by krilla (which subsets and embeds the font, and
//! writes the text so that it can be copied and extracted). Lines are broken by measuring with
//! skrifa, the font reader krilla itself uses; Chinese breaks between any two characters,
//! English between words.

use std::sync::Arc;

use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::LetterFacts;
use super::qr::Modules;
use crate::domain::letter::{Language, LeavePeriod};

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// The QR code's side on paper, in points: about 3 cm, which a phone reads from arm's length.
const QR_SIDE: f32 = 92.0;

/// The font letters are set in, loaded once: krilla's handle to embed it, and its bytes for
/// skrifa to measure with.
#[derive(Clone)]
pub struct LetterFont {
    data: Arc<Vec<u8>>,
    index: u32,
    font: Font,
}

impl std::fmt::Debug for LetterFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LetterFont")
            .field("bytes", &self.data.len())
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl LetterFont {
    /// Reads a font file (TrueType, OpenType or a collection, at `index`).
    ///
    /// # Errors
    /// The bytes are not a font krilla and skrifa can read, or it has no Chinese glyphs.
    pub fn new(data: Vec<u8>, index: u32) -> anyhow::Result<Self> {
        let data = Arc::new(data);
        let font = Font::new(Arc::clone(&data).into(), index)
            .ok_or_else(|| anyhow::anyhow!("not a font krilla can read, at index {index}"))?;
        let this = Self { data, index, font };
        let face = this.face()?;
        if face.charmap().map('假').is_none() {
            anyhow::bail!("the font has no Simplified Chinese glyphs");
        }
        Ok(this)
    }

    fn face(&self) -> anyhow::Result<FontRef<'_>> {
        FontRef::from_index(&self.data, self.index).map_err(|error| anyhow::anyhow!("unreadable font: {error}"))
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let Ok(face) = self.face() else { return 0.0 };
        let charmap = face.charmap();
        let metrics = face.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars().map(|c| charmap.map(c).and_then(|glyph| metrics.advance_width(glyph)).unwrap_or(size / 2.0)).sum()
    }

    /// `text` broken into lines no wider than `width`.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for token in tokens(text) {
            let candidate = format!("{line}{token}");
            if !line.is_empty() && self.width(candidate.trim_end(), size) > width {
                lines.push(line.trim_end().to_owned());
                token.trim_start().clone_into(&mut line);
            } else {
                line = candidate;
            }
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
        }
        lines
    }
}

/// Breakable pieces: a Latin word with its following space, or one other character.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii() {
            word.push(c);
            if c == ' ' {
                tokens.push(std::mem::take(&mut word));
            }
        } else {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// Renders the letter.
///
/// # Errors
/// krilla could not write the document, or the address is too long for a QR code.
pub fn render(font: &LetterFont, facts: &LetterFacts) -> anyhow::Result<Vec<u8>> {
    let mut document = Document::new();
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or_else(|| anyhow::anyhow!("page size"))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    let mut pen = Pen { surface: &mut surface, font, y: MARGIN };
    pen.letterhead(facts);
    let languages = facts.language.printed();
    let size = if languages.len() == 2 { 10.0 } else { 11.5 };
    for &language in languages {
        pen.section(facts, language, size);
    }
    pen.verification(facts, size)?;
    surface.finish();
    page.finish();
    document.finish().map_err(|error| anyhow::anyhow!("krilla: {error:?}"))
}

/// Writes down the page, line by line.
struct Pen<'s, 'f> {
    surface: &'s mut Surface<'f>,
    font: &'s LetterFont,
    /// The baseline of the next line, from the top of the page.
    y: f32,
}

impl Pen<'_, '_> {
    fn text_at(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.surface.draw_text(Point::from_xy(x, y), self.font.font.clone(), size, text, false, TextDirection::Auto);
    }

    fn line(&mut self, size: f32, text: &str) {
        self.y += size * 1.5;
        let y = self.y;
        self.text_at(MARGIN, y, size, text);
    }

    fn paragraph(&mut self, size: f32, text: &str, indent: f32) {
        for line in self.font.wrap(text, size, TEXT_WIDTH - indent) {
            self.y += size * 1.5;
            let y = self.y;
            self.text_at(MARGIN + indent, y, size, &line);
        }
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    fn rule(&mut self) {
        self.gap(8.0);
        let mut path = PathBuilder::new();
        if let Some(rect) = Rect::from_xywh(MARGIN, self.y, TEXT_WIDTH, 0.8) {
            path.push_rect(rect);
        }
        if let Some(path) = path.finish() {
            self.surface.draw_path(&path);
        }
        self.gap(4.0);
    }

    fn letterhead(&mut self, facts: &LetterFacts) {
        let head = &facts.letterhead;
        self.line(16.0, &head.name_zh);
        self.line(11.0, &head.name_en);
        if let Some(contact) = &head.contact {
            self.line(9.5, contact);
        }
        self.rule();
    }

    fn section(&mut self, facts: &LetterFacts, language: Language, size: f32) {
        let wording = language.wording();
        self.gap(6.0);
        let title_size = size + 4.0;
        let title_x = (PAGE_WIDTH - self.font.width(wording.title, title_size)) / 2.0;
        self.y += title_size * 1.6;
        let y = self.y;
        self.text_at(title_x, y, title_size, wording.title);
        self.gap(4.0);
        self.paragraph(size, &wording.salutation.replace("{employer}", &facts.employer), 0.0);
        self.paragraph(size, &wording.body.replace("{name}", &facts.donor_name), 0.0);
        self.paragraph(size, wording.dates_heading, 0.0);
        for period in &facts.periods {
            self.paragraph(size, &period_line(period, language), 14.0);
        }
        self.paragraph(size, wording.request, 0.0);
        let branch = match language {
            Language::Zh => &facts.letterhead.name_zh,
            Language::En => &facts.letterhead.name_en,
        };
        self.paragraph(size, branch, 0.0);
        self.paragraph(size, &format!("{}: {}", wording.issued_label, date(facts.issued_on, language)), 0.0);
    }

    fn verification(&mut self, facts: &LetterFacts, size: f32) -> anyhow::Result<()> {
        self.rule();
        let modules = Modules::encode(&facts.verify_url)?;
        // Four modules of quiet zone on each side, as the standard asks.
        let module = QR_SIDE / f32::from(u16::try_from(modules.width + 8).unwrap_or(u16::MAX));
        let (left, top) = (MARGIN, self.y + 6.0);
        let mut path = PathBuilder::new();
        for (row, column, length) in modules.runs() {
            let (row, column, length) = (as_f32(row + 4), as_f32(column + 4), as_f32(length));
            if let Some(rect) = Rect::from_xywh(left + column * module, top + row * module, length * module, module) {
                path.push_rect(rect);
            }
        }
        if let Some(path) = path.finish() {
            self.surface.draw_path(&path);
        }
        let text_left = MARGIN + QR_SIDE + 12.0;
        let mut y = top + 14.0;
        for language in facts.language.printed() {
            let wording = language.wording();
            self.text_at(text_left, y, size - 1.0, wording.verify);
            y += size * 1.5;
        }
        self.text_at(text_left, y, size - 1.0, &facts.verify_url);
        y += size * 1.5;
        let label = facts.language.printed().iter().map(|language| language.wording().code_label).collect::<Vec<_>>();
        self.text_at(text_left, y, size + 1.0, &format!("{} {}", label.join(" / "), facts.code));
        self.y = top + QR_SIDE;
        Ok(())
    }
}

/// A module count as a coordinate; a QR code is at most 177 modules wide.
fn as_f32(value: usize) -> f32 {
    f32::from(u16::try_from(value).unwrap_or(u16::MAX))
}

fn period_line(period: &LeavePeriod, language: Language) -> String {
    let days = period.days();
    let purpose = period.purpose.words(language);
    match language {
        Language::Zh if period.from == period.to => format!("{}（1天）：{purpose}", date(period.from, language)),
        Language::Zh => {
            format!("{}至{}（{days}天）：{purpose}", date(period.from, language), date(period.to, language))
        }
        Language::En if period.from == period.to => format!("{} (1 day): {purpose}", date(period.from, language)),
        Language::En => {
            format!("{} to {} ({days} days): {purpose}", date(period.from, language), date(period.to, language))
        }
    }
}

/// A date as each language writes it; English uses ISO 8601, which reads the same everywhere.
#[must_use]
pub fn date(day: chrono::NaiveDate, language: Language) -> String {
    match language {
        Language::Zh => day.format("%Y年%-m月%-d日").to_string(),
        Language::En => day.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::config::LetterSettings;
    use crate::domain::letter::{LeavePurpose, LetterLanguage};
    use crate::service::letters::Letterhead;

    fn facts(language: LetterLanguage) -> LetterFacts {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        LetterFacts {
            code: "ABCD-EFGH-JKMN-PQRS-TVWX".into(),
            verify_url: "http://127.0.0.1:8080/letters/ABCDEFGHJKMNPQRSTVWX".into(),
            language,
            donor_name: "张伟".into(),
            employer: "成都某某科技有限公司".into(),
            periods: vec![
                LeavePeriod { purpose: LeavePurpose::Mobilisation, from: day(10), to: day(13) },
                LeavePeriod { purpose: LeavePurpose::Collection, from: day(14), to: day(14) },
                LeavePeriod { purpose: LeavePurpose::Rest, from: day(15), to: day(16) },
            ],
            letterhead: Letterhead {
                branch_code: "51".into(),
                name_zh: "中华骨髓库四川省分库".into(),
                name_en: "CMDP Sichuan Branch".into(),
                contact: Some("028-00000000".into()),
            },
            issued_on: day(7),
        }
    }

    #[test]
    fn the_same_facts_render_the_same_small_letter() {
        let font = LetterFont::load(&LetterSettings::default()).unwrap();
        let first = render(&font, &facts(LetterLanguage::Both)).unwrap();
        let again = render(&font, &facts(LetterLanguage::Both)).unwrap();
        assert_eq!(first, again);
        assert!(first.starts_with(b"%PDF-"));
        assert!(first.len() < 80_000, "{} bytes", first.len());
        for language in [LetterLanguage::ZhCn, LetterLanguage::En] {
            assert!(render(&font, &facts(language)).is_ok());
        }
    }

    #[test]
    fn long_lines_break_within_the_text_width() {
        let font = LetterFont::load(&LetterSettings::default()).unwrap();
        let text = "We ask you to grant leave on the dates below, and rest after the collection. 恳请贵单位在以下日期准予假期，并在采集后给予休息。".repeat(3);
        let lines = font.wrap(&text, 11.0, 200.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|line| font.width(line, 11.0) <= 200.0 + 11.0));
    }
}
