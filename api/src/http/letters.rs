//! The public side of leave letters: the check page a letter's QR code opens, and the
//! single-use PDF download.
//!
//! The page is plain server-rendered HTML, readable on a phone with no JavaScript, in the
//! reader's language (`Accept-Language`, or `?lang=` from the switch). It shows what the
//! service's check returns and nothing more. Whatever the path holds, the answer is a page:
//! a malformed or unknown code is a 404, a busy client a 429, a database that cannot answer a
//! 503. Never a 500.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use crate::domain::letter::{Language, LetterCode};
use crate::error::AppError;
use crate::service::ClientAddress;
use crate::service::letters::{Standing, Verification, date, qr};

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

/// `GET /letters/{code}`.
pub async fn page(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
    code: Result<Path<String>, PathRejection>,
) -> Response {
    let language = language(query.lang.as_deref(), &headers);
    let Ok(Path(code)) = code else { return not_a_letter(language, StatusCode::NOT_FOUND) };
    if code.len() > 64 {
        return not_a_letter(language, StatusCode::NOT_FOUND);
    }
    match state.services.letters.verify(&code, client).await {
        Ok(verification) => {
            let url = format!("{}/letters/{code}", state.settings.letters.public_base_url.trim_end_matches('/'));
            let shown = LetterCode::parse(&code).map_or(code.clone(), |code| code.grouped());
            html(StatusCode::OK, language, &letter_page(&verification, language, &shown, &url))
        }
        Err(AppError::BadUserInput { .. } | AppError::NotFound { .. }) => not_a_letter(language, StatusCode::NOT_FOUND),
        Err(AppError::RateLimited { retry_after_secs }) => {
            let mut response = html(StatusCode::TOO_MANY_REQUESTS, language, &message_page(language, Message::Busy));
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(error) => {
            if let AppError::Internal(cause) = &error {
                tracing::error!(error = %cause, "letter check failed");
            }
            html(StatusCode::SERVICE_UNAVAILABLE, language, &message_page(language, Message::Unavailable))
        }
    }
}

/// `GET /letters/download/{token}`: the PDF, once.
pub async fn download(State(state): State<AppState>, token: Result<Path<String>, PathRejection>) -> Response {
    let gone = || {
        (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "This link has expired or was already used: ask the app for a new one.\n",
        )
            .into_response()
    };
    let Ok(Path(token)) = token else { return gone() };
    match state.services.letters.download(&token).await {
        Ok(Some(pdf)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/pdf"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"leave-letter.pdf\""),
                (header::CACHE_CONTROL, "no-store"),
            ],
            pdf,
        )
            .into_response(),
        Ok(None) => gone(),
        Err(error) => {
            if let AppError::Internal(cause) = &error {
                tracing::error!(error = %cause, "letter download failed");
            }
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], "Try again in a moment.\n").into_response()
        }
    }
}

/// The page's language: the switch's choice, else the first of Chinese or English the
/// browser prefers, else Chinese.
fn language(chosen: Option<&str>, headers: &HeaderMap) -> Language {
    match chosen {
        Some("en") => return Language::En,
        Some("zh-CN" | "zh") => return Language::Zh,
        _ => {}
    }
    let accepted = headers.get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let mut best: Option<(f32, Language)> = None;
    for entry in accepted.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality =
            parts.find_map(|part| part.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
        let language = if tag.starts_with("zh") {
            Language::Zh
        } else if tag.starts_with("en") {
            Language::En
        } else {
            continue;
        };
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, language));
        }
    }
    best.map_or(Language::Zh, |(_, language)| language)
}

enum Message {
    NotALetter,
    Busy,
    Unavailable,
}

fn not_a_letter(language: Language, status: StatusCode) -> Response {
    html(status, language, &message_page(language, Message::NotALetter))
}

fn message_page(language: Language, message: Message) -> String {
    let (title, body) = match (message, language) {
        (Message::NotALetter, Language::Zh) => {
            ("未找到此证明", "没有与此核验码对应的请假证明。请核对核验码是否输入正确，或联系出具证明的分库。")
        }
        (Message::NotALetter, Language::En) => (
            "No letter has this code",
            "No leave letter has this verification code. Check that it was typed correctly, or contact the branch \
             that issued the letter.",
        ),
        (Message::Busy, Language::Zh) => ("请稍后再试", "查询过于频繁，请一分钟后再试。"),
        (Message::Busy, Language::En) => ("Please wait", "Too many checks from this address: try again in a minute."),
        (Message::Unavailable, Language::Zh) => ("暂时无法核验", "服务暂时繁忙，请稍后刷新页面。"),
        (Message::Unavailable, Language::En) => {
            ("Cannot check right now", "The service is busy: reload this page in a moment.")
        }
    };
    document(language, title, &format!("<h1>{title}</h1><p>{body}</p>"), None)
}

fn letter_page(verification: &Verification, language: Language, code: &str, url: &str) -> String {
    let (status_class, status_text) = match (verification.standing, language) {
        (Standing::Valid, Language::Zh) => ("valid", "有效：此请假证明由中华骨髓库出具，真实有效。"),
        (Standing::Valid, Language::En) => ("valid", "Valid: this leave letter was issued by the registry."),
        (Standing::Revoked, Language::Zh) => ("revoked", "已撤销：此请假证明已被撤销，不再有效。"),
        (Standing::Revoked, Language::En) => {
            ("revoked", "Revoked: this leave letter was withdrawn and is no longer valid.")
        }
        (Standing::Superseded, Language::Zh) => {
            ("superseded", "已更新：此证明已被新的证明取代，请向捐献者索取最新证明。")
        }
        (Standing::Superseded, Language::En) => {
            ("superseded", "Superseded: a newer letter replaces this one; ask the donor for it.")
        }
        (Standing::Expired, Language::Zh) => ("expired", "已过期：此证明所列日期已过去较久，不再作为有效证明。"),
        (Standing::Expired, Language::En) => ("expired", "Expired: the dates of this letter are long past."),
    };
    let labels = match language {
        Language::Zh => ["捐献者", "请假日期", "出具单位", "出具时间", "核验码"],
        Language::En => ["Donor", "Dates of leave", "Issued by", "Issued at", "Verification code"],
    };
    let periods = verification
        .periods
        .iter()
        .map(|period| {
            let days = if period.from == period.to {
                date(period.from, language)
            } else {
                let to = match language {
                    Language::Zh => "至",
                    Language::En => " to ",
                };
                format!("{}{to}{}", date(period.from, language), date(period.to, language))
            };
            format!("<li><span class=\"dates\">{days}</span> {}</li>", escape(period.purpose.words(language)))
        })
        .collect::<Vec<_>>()
        .concat();
    let branch = match language {
        Language::Zh => &verification.branch_name_zh,
        Language::En => &verification.branch_name_en,
    };
    let issued_at = (verification.issued_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M (UTC+8)");
    let body = format!(
        "<p class=\"status {status_class}\" id=\"status\" data-status=\"{status_class}\">{status}</p>\
         <dl><dt>{l0}</dt><dd id=\"donor\">{name}</dd>\
         <dt>{l1}</dt><dd><ul id=\"periods\">{periods}</ul></dd>\
         <dt>{l2}</dt><dd id=\"branch\">{branch}</dd>\
         <dt>{l3}</dt><dd id=\"issued\">{issued_at}</dd>\
         <dt>{l4}</dt><dd><code>{code}</code></dd></dl>",
        status = escape(status_text),
        l0 = labels[0],
        l1 = labels[1],
        l2 = labels[2],
        l3 = labels[3],
        l4 = labels[4],
        name = escape(&verification.masked_name),
        branch = escape(branch),
        code = escape(code),
    );
    let qr = qr::svg(url, 140).ok();
    let title = match language {
        Language::Zh => "请假证明核验",
        Language::En => "Leave letter check",
    };
    document(language, title, &format!("<h1>{title}</h1>{body}"), qr.as_deref())
}

/// The page around a body: small, styled inline, with the language switch.
fn document(language: Language, title: &str, body: &str, qr: Option<&str>) -> String {
    let lang = match language {
        Language::Zh => "zh-CN",
        Language::En => "en",
    };
    // The SVG without its XML declaration, inline in the page.
    let qr = qr.map(|svg| format!("<figure>{}</figure>", svg.split_once("?>").map_or(svg, |(_, rest)| rest)));
    let qr = qr.unwrap_or_default();
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:\"WenQuanYi Micro Hei\",\"Noto Sans CJK SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;\
         max-width:36rem;margin:1rem auto;padding:0 1rem;line-height:1.5;color:#222}}\
         .status{{padding:.75rem;border-radius:.4rem;font-weight:bold}}.valid{{background:#e3f4e6;color:#145c22}}\
         .revoked,.expired,.superseded{{background:#fde8e8;color:#8a1c1c}}dt{{font-weight:bold;margin-top:.5rem}}\
         dd{{margin:0}}ul{{padding-left:1.2rem;margin:0}}nav{{text-align:right}}figure{{margin:1rem 0}}</style></head>\
         <body><nav><a href=\"?lang=zh-CN\" hreflang=\"zh-CN\">中文</a> · <a href=\"?lang=en\" hreflang=\"en\">English</a></nav>\
         {body}{qr}</body></html>"
    )
}

fn html(status: StatusCode, language: Language, page: &str) -> Response {
    let content_language = match language {
        Language::Zh => "zh-CN",
        Language::En => "en",
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_LANGUAGE, content_language),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::VARY, "Accept-Language"),
        ],
        page.to_owned(),
    )
        .into_response()
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_s_preferred_language_wins_and_the_switch_overrides_it() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("de-DE,en;q=0.8,zh-CN;q=0.5"));
        assert_eq!(language(None, &headers), Language::En);
        assert_eq!(language(Some("zh-CN"), &headers), Language::Zh);
        assert_eq!(language(None, &HeaderMap::new()), Language::Zh);
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
