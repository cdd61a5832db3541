//! Escaping text for HTML and SVG, shared by every crate that renders a page (reports, coverage).

/// Appends `text` with `&`, `<`, `>`, `"` and `'` replaced by entities, so it is safe both as
/// element text and inside a quoted attribute of HTML and SVG.
pub fn escape_into(out: &mut String, text: &str) {
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // The special bytes are ASCII, so these are char boundaries.
        out.push_str(&text[start..index]);
        out.push_str(entity);
        start = index + 1;
    }
    out.push_str(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_markup_characters_and_keeps_the_rest() {
        let mut out = String::new();
        escape_into(&mut out, "<script>alert('x') & \"y\"</script> é");
        assert_eq!(
            out,
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt; é"
        );
    }
}
