//! The QR code that points to a letter's public check, drawn by the `qrcode` crate's encoder:
//! as vector squares on the PDF, and as SVG on the web page.

use qrcode::{Color, EcLevel, QrCode};

/// A QR code's dark modules, row by row, with its width in modules.
#[derive(Debug)]
pub struct Modules {
    pub width: usize,
    dark: Vec<bool>,
}

impl Modules {
    /// Encodes `url` at error-correction level M, which survives a crease or a smudge on paper.
    ///
    /// # Errors
    /// A text too long for any QR version, which a verification address never is.
    pub fn encode(url: &str) -> Result<Self, qrcode::types::QrError> {
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)?;
        let dark = code.to_colors().into_iter().map(|color| color == Color::Dark).collect();
        Ok(Self { width: code.width(), dark })
    }

    /// The dark modules as runs on each row, `(row, first column, length)`: one rectangle per
    /// run keeps the PDF small.
    pub fn runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.dark.chunks(self.width).enumerate().flat_map(|(row, cells)| {
            let mut runs = Vec::new();
            let mut start = None;
            for (column, &dark) in cells.iter().chain(std::iter::once(&false)).enumerate() {
                match (dark, start) {
                    (true, None) => start = Some(column),
                    (false, Some(first)) => {
                        runs.push((row, first, column - first));
                        start = None;
                    }
                    _ => {}
                }
            }
            runs
        })
    }
}

/// The QR code of `url` as an SVG image `size` pixels wide, with its quiet zone.
///
/// # Errors
/// A text too long for any QR version.
pub fn svg(url: &str, size: u32) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(size, size)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let modules = Modules::encode("https://registry.example/letters/ABCD").unwrap();
        let covered: usize = modules.runs().map(|(_, _, length)| length).sum();
        assert_eq!(covered, modules.dark.iter().filter(|&&dark| dark).count());
        assert!(svg("https://registry.example/letters/ABCD", 160).unwrap().starts_with("<?xml"));
    }
}
