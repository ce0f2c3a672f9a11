//! Descriptions for editors from the model's rustdoc: the derived schemas take each type's and
//! field's doc comment as its description, written for rustdoc. Editors show descriptions as
//! they are, so doctests and intra-doc link targets are taken out.

use schemars::Schema;
use schemars::transform::{Transform, transform_subschemas};

/// Rewrites every `description` in a schema and its subschemas with [`plain`].
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PlainDescriptions;

impl Transform for PlainDescriptions {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(serde_json::Value::String(text)) = schema.get_mut("description") {
            *text = plain(text);
        }
        transform_subschemas(self, schema);
    }
}

/// A rustdoc comment without its code blocks (doctests), its links reduced to their text
/// (`` [`Never`](RestartPolicy::Never) `` and `` [`Never`] `` become `` `Never` ``), and
/// without trailing blank lines.
fn plain(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut in_code = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            out.push_str(&unlink(line));
            out.push('\n');
        }
    }
    out.trim_end().to_owned()
}

/// One line with `[text](target)` and `[text]` reduced to `text`. Brackets that are no link
/// (no closing bracket) are kept.
fn unlink(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            rest = &rest[open..];
            break;
        };
        out.push_str(&after[..close]);
        rest = &after[close + 1..];
        if let Some(target) = rest.strip_prefix('(')
            && let Some(end) = target.find(')')
        {
            rest = &target[end + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn code_blocks_go_and_links_keep_their_text() {
        let doc = "Restarts unless [`Never`](RestartPolicy::Never); see [`Component`].\n\n\
                   ```\nuse x;\n```\n";
        assert_eq!(plain(doc), "Restarts unless `Never`; see `Component`.");
    }

    #[test]
    fn text_without_links_or_code_is_kept() {
        let doc = "A span: `5h` or `PT5H` (1 minute ..= 7 days), a [bracket";
        assert_eq!(plain(doc), doc);
    }
}
