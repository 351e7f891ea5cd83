//! Rust names for XML names.

/// `hangup-command` → `HangupCommand`, `endReason` → `EndReason`.
pub fn pascal(xml: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in xml.chars() {
        if c == '-' || c == '_' || c == '.' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `call-uri` → `call_uri`, `endReason` → `end_reason`; Rust keywords get a trailing `_`.
pub fn snake(xml: &str) -> String {
    let mut out = String::new();
    for (i, c) in xml.chars().enumerate() {
        if c == '-' || c == '.' {
            out.push('_');
        } else if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    if matches!(
        out.as_str(),
        "type" | "ref" | "match" | "mod" | "move" | "self" | "struct" | "use" | "loop" | "in"
    ) {
        out.push('_');
    }
    out
}

/// The field name for a repeated child: `header` → `headers`.
pub fn plural(snake: &str) -> String {
    if snake.ends_with('s') || snake == "available" {
        snake.to_owned()
    } else {
        format!("{snake}s")
    }
}

/// Wraps documentation text into `///` lines of at most 96 columns at the given indent.
pub fn doc_lines(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + 4 + line.len() + 1 + word.len() > 96 {
            out.push_str(&format!("{indent}/// {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{indent}/// {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(pascal("hangup-command"), "HangupCommand");
        assert_eq!(pascal("endReason"), "EndReason");
        assert_eq!(snake("call-uri"), "call_uri");
        assert_eq!(snake("endReason"), "end_reason");
        assert_eq!(snake("type"), "type_");
        assert_eq!(plural("header"), "headers");
    }
}
