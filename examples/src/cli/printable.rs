//! Text from files and stores made safe for a terminal: control characters (escape sequences,
//! carriage returns, bells) are shown escaped, never sent raw.

use std::borrow::Cow;

/// `text` with every control character escaped as Rust writes it (`\u{1b}`, `\r`, `\t`);
/// borrowed when there is nothing to escape.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("talker-1 ünï"), "talker-1 ünï");
        assert_eq!(
            printable("evil\u{1b}[2J\rname\u{7}"),
            "evil\\u{1b}[2J\\rname\\u{7}"
        );
    }
}
