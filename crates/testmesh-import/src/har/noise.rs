//! What in a browser recording is not part of the API being tested: static assets, analytics and
//! tracking calls, non-HTTP URLs, CORS preflights — and the request headers browsers add on their own.

use super::Entry;
use super::HarOptions;

/// Why an entry is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Noise {
    NonHttp,
    Preflight,
    ExcludedHost,
    Analytics,
    Static,
    NoResponse,
}

impl Noise {
    /// The reason given in the skipped list.
    pub fn reason(self) -> &'static str {
        match self {
            Noise::NonHttp => "not HTTP(S): data:, blob:, browser-extension URLs and WebSockets",
            Noise::Preflight => "CORS preflight requests (the browser sends them on its own)",
            Noise::ExcludedHost => "hosts not among the included hosts",
            Noise::Analytics => "analytics, tracking and error-reporting services",
            Noise::Static => {
                "static assets (scripts, styles, images, fonts, media, source maps); keep them with --keep-static"
            }
            Noise::NoResponse => {
                "no response was recorded (blocked, cancelled or failed in the browser)"
            }
        }
    }

    /// `count` and a short noun (`3 static assets`, `1 CORS preflight`).
    pub fn count(self, count: usize) -> String {
        let (one, many) = match self {
            Noise::NonHttp => ("non-HTTP entry", "non-HTTP entries"),
            Noise::Preflight => ("CORS preflight", "CORS preflights"),
            Noise::ExcludedHost => ("entry of another host", "entries of other hosts"),
            Noise::Analytics => ("analytics/tracking call", "analytics/tracking calls"),
            Noise::Static => ("static asset", "static assets"),
            Noise::NoResponse => ("entry without a response", "entries without a response"),
        };
        format!("{count} {}", if count == 1 { one } else { many })
    }
}

/// Hosts (and their sub-domains) of analytics, advertising, session-recording and error-reporting
/// services.
const TRACKING_HOSTS: &[&str] = &[
    "google-analytics.com",
    "analytics.google.com",
    "googletagmanager.com",
    "googletagservices.com",
    "doubleclick.net",
    "googlesyndication.com",
    "googleadservices.com",
    "adservice.google.com",
    "segment.io",
    "segment.com",
    "mixpanel.com",
    "mxpnl.com",
    "hotjar.com",
    "hotjar.io",
    "connect.facebook.net",
    "amplitude.com",
    "heapanalytics.com",
    "heap.io",
    "fullstory.com",
    "clarity.ms",
    "bat.bing.com",
    "nr-data.net",
    "newrelic.com",
    "browser-intake-datadoghq.com",
    "browser-intake-datadoghq.eu",
    "ingest.sentry.io",
    "sentry-cdn.com",
    "bugsnag.com",
    "lr-ingest.io",
    "lr-in.com",
    "intercom.io",
    "intercomcdn.com",
    "cloudflareinsights.com",
    "plausible.io",
    "posthog.com",
    "quantserve.com",
    "scorecardresearch.com",
    "crazyegg.com",
    "mouseflow.com",
    "mc.yandex.ru",
    "px.ads.linkedin.com",
    "snap.licdn.com",
    "analytics.tiktok.com",
    "optimizely.com",
    "matomo.cloud",
];

/// `_resourceType`s (Chrome) of static assets.
const STATIC_TYPES: &[&str] = &[
    "script",
    "stylesheet",
    "image",
    "font",
    "media",
    "manifest",
    "texttrack",
];

/// Path extensions of static assets.
const STATIC_EXTENSIONS: &[&str] = &[
    "js",
    "mjs",
    "cjs",
    "css",
    "map",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "avif",
    "bmp",
    "tif",
    "tiff",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "eot",
    "mp4",
    "webm",
    "ogg",
    "ogv",
    "mp3",
    "wav",
    "m4a",
    "flac",
    "mov",
    "avi",
    "wasm",
    "webmanifest",
];

/// Response content types of static assets.
const STATIC_MIME: &[&str] = &[
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "application/wasm",
    "application/manifest+json",
    "application/font-woff",
    "application/font-woff2",
    "application/x-font-ttf",
    "application/x-font-woff",
    "application/vnd.ms-fontobject",
    "text/cache-manifest",
];

/// Whether `host` is `suffix` or one of its sub-domains.
fn host_is(host: &str, suffix: &str) -> bool {
    host == suffix
        || host
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// Why `entry` is noise, if it is.
pub(super) fn classify(entry: &Entry<'_>, options: &HarOptions) -> Option<Noise> {
    let Some(url) = &entry.url else {
        return Some(Noise::NonHttp);
    };
    if !matches!(url.scheme(), "http" | "https")
        || entry.resource_type == "websocket"
        || entry.status == 101
    {
        return Some(Noise::NonHttp);
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if entry.method.eq_ignore_ascii_case("OPTIONS")
        && entry
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("access-control-request-method"))
    {
        return Some(Noise::Preflight);
    }
    if !options.include_hosts.is_empty() && !included(&host, url.port(), &options.include_hosts) {
        return Some(Noise::ExcludedHost);
    }
    let path = url.path().to_ascii_lowercase();
    let tracking = TRACKING_HOSTS.iter().any(|h| host_is(&host, h))
        || (host_is(&host, "facebook.com") && (path == "/tr" || path.starts_with("/tr/")))
        || (host_is(&host, "sentry.io")
            && (path.contains("/envelope/") || path.contains("/store/")));
    if tracking {
        return Some(Noise::Analytics);
    }
    if !options.keep_static && is_static(entry, &path) {
        return Some(Noise::Static);
    }
    if entry.status == 0 {
        return Some(Noise::NoResponse);
    }
    None
}

fn included(host: &str, port: Option<u16>, include: &[String]) -> bool {
    include.iter().any(|pattern| {
        let pattern = pattern.trim().to_ascii_lowercase();
        if let Some(suffix) = pattern.strip_prefix("*.") {
            return host_is(host, suffix);
        }
        pattern == host || port.is_some_and(|p| pattern == format!("{host}:{p}"))
    })
}

fn is_static(entry: &Entry<'_>, path: &str) -> bool {
    if !matches!(entry.method.to_ascii_uppercase().as_str(), "GET" | "HEAD") {
        return false;
    }
    if STATIC_TYPES.contains(&entry.resource_type.as_str()) {
        return true;
    }
    let mime = entry.response_mime.as_str();
    if ["image/", "font/", "audio/", "video/"]
        .iter()
        .any(|p| mime.starts_with(p))
        || STATIC_MIME.contains(&mime)
    {
        return true;
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    last.rsplit_once('.')
        .is_some_and(|(_, ext)| STATIC_EXTENSIONS.contains(&ext))
}

/// Request headers the browser adds by itself (or that must not be replayed as recorded).
pub(super) fn is_browser_header(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if name.starts_with(':') || name.starts_with("sec-") {
        return true;
    }
    if name == "accept" {
        let value = value.trim();
        return value == "*/*" || value.starts_with("text/html") || value.starts_with("image/");
    }
    matches!(
        name.as_str(),
        "accept-encoding"
            | "accept-language"
            | "user-agent"
            | "cookie"
            | "connection"
            | "host"
            | "content-length"
            | "referer"
            | "origin"
            | "pragma"
            | "cache-control"
            | "upgrade-insecure-requests"
            | "te"
            | "dnt"
            | "priority"
            | "if-none-match"
            | "if-modified-since"
            | "keep-alive"
            | "proxy-connection"
            | "purpose"
            | "x-client-data"
    )
}
