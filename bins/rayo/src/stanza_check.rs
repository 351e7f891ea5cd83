//! `rayo stanza check`: parse and validate files of stanzas, print each one's canonical
//! form on standard output or one line saying what is wrong with it on standard error.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayo_proto::document::{self, Item, SyntaxError};

use crate::cli::CheckArgs;

/// What checking some input found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Elements printed in canonical form.
    pub passed: usize,
    /// Lines of failure written (refused elements, non-XML text).
    pub failed: usize,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Runs `rayo stanza check` on its arguments: standard input when no file is named.
///
/// Exit status 0 when everything passed, 1 when anything failed, 2 when a file could not
/// be read or the output could not be written.
pub fn run(args: &CheckArgs) -> ExitCode {
    let stdin_only = [PathBuf::from("-")];
    let files = if args.files.is_empty() {
        &stdin_only[..]
    } else {
        &args.files[..]
    };
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let mut tally = Tally::default();
    let mut unreadable = false;
    for path in files {
        let name = path.display().to_string();
        let bytes = match read_input(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                unreadable = true;
                // Nothing more can be said if standard error is gone.
                let _ = writeln!(err, "rayo: {name}: {e}");
                continue;
            }
        };
        match check_bytes(&name, &bytes, &mut out, &mut err) {
            Ok(t) => tally += t,
            Err(e) => {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    let _ = writeln!(err, "rayo: writing the output: {e}");
                }
                return ExitCode::from(2);
            }
        }
    }
    if unreadable {
        ExitCode::from(2)
    } else if tally.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads a whole file, or standard input for `-`.
fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        io::stdin().lock().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

/// Checks the contents of one input called `name` (`-` for standard input): canonical
/// lines go to `out`, failure lines (`name:LINE: …`) to `err`.
///
/// Bytes that are not UTF-8 end the check of the input, as text that is not XML does.
pub fn check_bytes(
    name: &str,
    bytes: &[u8],
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<Tally> {
    let (text, bad_utf8) = match std::str::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            // The prefix up to the first bad byte is UTF-8 by construction.
            let text = std::str::from_utf8(valid).unwrap_or_default();
            let line = text.matches('\n').count() + 1;
            let problem = SyntaxError {
                line,
                message: format!("bytes that are not UTF-8 (from byte {})", e.valid_up_to()),
            };
            (text, Some(problem))
        }
    };
    let (chunks, tail) = document::split(text);
    let mut tally = Tally::default();
    for chunk in &chunks {
        match chunk.item().and_then(|item| item.validate().map(|()| item)) {
            Ok(item) => match canonical(item) {
                Ok(line) => {
                    writeln!(out, "{line}")?;
                    tally.passed += 1;
                }
                Err(e) => {
                    let what = one_line(&e);
                    writeln!(
                        err,
                        "{name}:{}: cannot serialise: {what} (a bug of rayo-proto)",
                        chunk.line
                    )?;
                    tally.failed += 1;
                }
            },
            Err(e) => {
                writeln!(err, "{name}:{}: {}", chunk.line, refusal(&e))?;
                tally.failed += 1;
            }
        }
    }
    // A non-UTF-8 byte cut the text short, so an error of the split (such as an element
    // left open) is most likely its consequence: report the cause.
    if let Some(problem) = bad_utf8.or(tail) {
        writeln!(err, "{name}:{}: {}", problem.line, not_xml(&problem))?;
        tally.failed += 1;
    }
    Ok(tally)
}

/// The canonical form of an item: the serialisation of its element, on one line (line
/// feeds in text are written as the character reference `&#xa;`, which reads back the
/// same).
pub fn canonical(item: Item) -> Result<String, String> {
    let elem = minidom::Element::from(item);
    let mut xml = Vec::new();
    elem.write_to(&mut xml).map_err(|e| e.to_string())?;
    let xml = String::from_utf8(xml).map_err(|e| e.to_string())?;
    Ok(xml.replace('\n', "&#xa;"))
}

/// What is wrong with a refused element and the stanza error a server answers with.
fn refusal(e: &rayo_proto::Error) -> String {
    format!(
        "{} (server answers {}/{})",
        one_line(&e.to_string()),
        e.condition_name(),
        rayo_proto::error::type_name(&e.error_type())
    )
}

/// What is wrong with text that is not XML; a server closes the stream on it.
fn not_xml(e: &SyntaxError) -> String {
    let message = one_line(&e.message);
    let what = match message.strip_suffix(" (not XML)") {
        Some(m) => format!("not XML: {m}"),
        None if message.contains("XML") => message,
        None => format!("not XML: {message}"),
    };
    format!("{what} (server answers not-well-formed stream error)")
}

/// Messages from parsers may span lines; a failure is one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn check(input: &str) -> (String, String, Tally) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let tally = check_bytes("in.xml", input.as_bytes(), &mut out, &mut err)
            .unwrap_or_else(|e| panic!("writing to a Vec failed: {e}"));
        (
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
            tally,
        )
    }

    #[test]
    fn prints_a_canonical_line_per_element_and_skips_comments() {
        let input = "<!-- two stanzas -->\n<iq type='set' id='a1' to='c@call.x'>\n  \
                     <answer xmlns='urn:xmpp:rayo:1'/>\n</iq>\n<!-- -->\n\
                     <presence from='c@call.x' to='j@x/r'><ringing xmlns='urn:xmpp:rayo:1'/></presence>\n";
        let (out, err, tally) = check(input);
        assert_eq!(err, "");
        assert_eq!(
            tally,
            Tally {
                passed: 2,
                failed: 0
            }
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("<iq "), "{}", lines[0]);
        assert!(
            lines[0].contains("<answer xmlns='urn:xmpp:rayo:1'/>"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("<presence "), "{}", lines[1]);
    }

    #[test]
    fn canonical_output_reads_back_to_itself() {
        let input =
            "<output xmlns='urn:xmpp:rayo:output:1'><document content-type='text/uri-list'>\
                     <![CDATA[\nhttp://a/b.wav\nhttp://a/c.wav\n]]></document></output>";
        let (out, err, _) = check(input);
        assert_eq!(err, "");
        assert_eq!(out.lines().count(), 1, "{out}");
        let (again, err, tally) = check(&out);
        assert_eq!(err, "");
        assert_eq!(tally.passed, 1);
        assert_eq!(again, out);
    }

    #[test]
    fn a_refused_element_names_its_line_and_the_server_error() {
        let input = "<iq type='set' id='1' to='c@call.x'><answer xmlns='urn:xmpp:rayo:1'/></iq>\n\n\
                     <iq type='set' id='2' to='c@call.x'>\n<unknown xmlns='urn:xmpp:rayo:1'/></iq>\n";
        let (out, err, tally) = check(input);
        assert_eq!(out.lines().count(), 1);
        assert_eq!(
            tally,
            Tally {
                passed: 1,
                failed: 1
            }
        );
        assert!(
            err.starts_with("in.xml:3: <unknown xmlns='urn:xmpp:rayo:1'> is not a command"),
            "{err}"
        );
        assert!(
            err.ends_with(" (server answers feature-not-implemented/cancel)\n"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
    }

    #[test]
    fn text_after_the_stanzas_is_not_xml() {
        let input = "<message to='c@call.x'><body>hi</body></message>\n\nMESSAGE sip:r@m SIP/2.0\n";
        let (out, err, tally) = check(input);
        assert_eq!(out.lines().count(), 1);
        assert_eq!(
            tally,
            Tally {
                passed: 1,
                failed: 1
            }
        );
        assert_eq!(
            err,
            "in.xml:3: not XML: text outside any element \
             (server answers not-well-formed stream error)\n"
        );
    }

    #[test]
    fn broken_xml_and_bad_bytes_are_one_line_each_never_a_panic() {
        for input in [
            "<iq>\n</presence>",
            "<a>\n<b></a>",
            "<iq type='set'>",
            "<",
            "&amp;",
            "text",
        ] {
            let (_, err, tally) = check(input);
            assert_eq!(tally.failed, 1, "{input:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{input:?}: {err}");
        }
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let bytes = b"<presence to='a@b'/>\n<presence to='\xff'/>";
        let tally = check_bytes("-", bytes, &mut out, &mut err)
            .unwrap_or_else(|e| panic!("writing to a Vec failed: {e}"));
        assert_eq!(
            tally,
            Tally {
                passed: 1,
                failed: 1
            }
        );
        let err = String::from_utf8_lossy(&err);
        assert!(
            err.starts_with("-:2: not XML: bytes that are not UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let (out, err, tally) = check("\u{feff}<presence to='a@b'/>\n<presence to='c@d'/>");
        assert_eq!(err, "");
        assert_eq!(tally.passed, 2);
        assert!(
            out.starts_with("<presence xmlns='jabber:client' to='a@b'>"),
            "{out}"
        );
    }

    #[test]
    fn an_empty_input_passes_with_no_output() {
        assert_eq!(check(""), (String::new(), String::new(), Tally::default()));
        assert_eq!(
            check("<!-- nothing -->\n"),
            (String::new(), String::new(), Tally::default())
        );
    }
}
