#!/usr/bin/env python3
"""Validate the spec examples against the corrected Rayo / CMR schemas.

Usage (from the repository root):

    pip install xmlschema
    python3 tests/xsd/validate.py [EXAMPLES_DIR]

EXAMPLES_DIR defaults to specs/examples relative to the repository
root (the repository root is located relative to this script, so the script
can be run from any directory).

What it does:

1. Loads every schema in <repo>/xsd/*.xsd with the strict XSD 1.0 validator
   (xmlschema.XMLSchema10) and fails if any of them is not a valid schema, or
   if one of the 11 expected schemas is missing.
2. Loads all of them together in one set of global maps (an in-memory schema
   that just imports every namespace), so that the lax wildcards of
   <complete xmlns='urn:xmpp:rayo:ext:1'> validate the reasons and metadata
   of the other Rayo namespaces instead of skipping them.
3. For every example file (xep-NNNN-SEQ.xml): skips the caption comment on the
   first line, stops at a non-XML tail (only allowed where the spec has one:
   the SIP MESSAGE at the end of xep-0327-090.xml), parses the stanzas inside
   a dummy root element declaring xmlns='jabber:client', and validates every
   element of a schema namespace that has no ancestor in a schema namespace
   (each top-level payload; nested ones are validated as part of it) against
   the schema of its namespace. The payload echoed in an <iq type='error'>
   is not validated: RFC 6120 section 8.3.1 lets an error include the
   original, possibly invalid, payload (examples 48 and 49 of XEP-0327 echo
   deliberately invalid <output/> commands).
4. Negative checks: built-in pairs of a valid payload and a minimally broken
   variant; the valid one must be accepted and the broken one rejected, so
   that the validator is shown not to be vacuous.

Output: one line per example file, "ok FILE (N payloads)" or
"FAIL FILE: ELEMENT: REASON", the negative check results, and finally
"N passed, M failed" (files), which CI parses. Exit status 1 on any failure.
"""

import argparse
import io
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

try:
    import xmlschema
except ImportError:  # pragma: no cover - environment problem
    sys.stderr.write("error: the 'xmlschema' package is required (pip install xmlschema)\n")
    sys.exit(2)

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPT_DIR.parent.parent  # tests/xsd/validate.py -> repository root
XSD_DIR = REPO_ROOT / "xsd"
DEFAULT_EXAMPLES = REPO_ROOT / "specs" / "examples"
EXPECTED_EXAMPLE_COUNT = 110

# Schema file -> target namespace it must declare.
EXPECTED_SCHEMAS = {
    "rayo.xsd": "urn:xmpp:rayo:1",
    "rayo-ext.xsd": "urn:xmpp:rayo:ext:1",
    "rayo-ext-complete.xsd": "urn:xmpp:rayo:ext:complete:1",
    "rayo-output.xsd": "urn:xmpp:rayo:output:1",
    "rayo-output-complete.xsd": "urn:xmpp:rayo:output:complete:1",
    "rayo-input.xsd": "urn:xmpp:rayo:input:1",
    "rayo-input-complete.xsd": "urn:xmpp:rayo:input:complete:1",
    "rayo-prompt.xsd": "urn:xmpp:rayo:prompt:1",
    "rayo-record.xsd": "urn:xmpp:rayo:record:1",
    "rayo-record-complete.xsd": "urn:xmpp:rayo:record:complete:1",
    "cmr.xsd": "urn:xmpp:cmr:0",
}

# Example files whose text legitimately ends with something that is not XML.
NON_XML_TAIL_ALLOWED = {
    "xep-0327-090.xml",  # XMPP message followed by the SIP MESSAGE it becomes
}

XS = "http://www.w3.org/2001/XMLSchema"

LEADING_COMMENT = re.compile(r"\A\s*<!--.*?-->", re.S)
MARKUP = re.compile(
    r"""<!--.*?-->                          # comment
      | <!\[CDATA\[.*?\]\]>                 # CDATA section
      | <\?.*?\?>                           # processing instruction
      | </[^>]*>                            # end tag
      | <[A-Za-z_](?:[^>"']|"[^"]*"|'[^']*')*>   # start or empty-element tag
    """,
    re.S | re.X,
)


class SchemaSet:
    """The corrected schemas, loaded strictly, sharing one set of global maps."""

    def __init__(self, xsd_dir):
        self.errors = []  # (schema file, reason)
        self.by_namespace = {}
        found = {}
        paths = sorted(xsd_dir.glob("*.xsd"))
        for name in EXPECTED_SCHEMAS:
            if not (xsd_dir / name).is_file():
                self.errors.append((name, "schema file is missing"))
        # (a) every schema on its own, strictly.
        for path in paths:
            try:
                schema = xmlschema.XMLSchema10(str(path), validation="strict")
            except Exception as exc:  # XMLSchemaParseError, ParseError, OSError...
                self.errors.append((path.name, one_line(exc)))
                continue
            tns = schema.target_namespace
            expected = EXPECTED_SCHEMAS.get(path.name)
            if expected is not None and tns != expected:
                self.errors.append((path.name, f"targetNamespace is {tns!r}, expected {expected!r}"))
                continue
            if not tns:
                self.errors.append((path.name, "schema has no targetNamespace"))
                continue
            if tns in found:
                self.errors.append((path.name, f"targetNamespace {tns!r} also declared by {found[tns]}"))
                continue
            found[tns] = path.name
        if self.errors:
            return
        # (b) all of them in one set of maps, so lax wildcards see every declaration.
        imports = "".join(
            f'<xs:import namespace="{ns}" schemaLocation="{name}"/>' for ns, name in sorted(found.items())
        )
        wrapper = f'<xs:schema xmlns:xs="{XS}">{imports}</xs:schema>'
        try:
            combined = xmlschema.XMLSchema10(
                io.StringIO(wrapper), base_url=str(xsd_dir) + "/", validation="strict"
            )
        except Exception as exc:
            self.errors.append(("(all schemas together)", one_line(exc)))
            return
        for schema in combined.maps.iter_schemas():
            if schema.target_namespace in found and schema.name == found[schema.target_namespace]:
                self.by_namespace[schema.target_namespace] = schema
        for ns, name in found.items():
            if ns not in self.by_namespace:
                self.errors.append((name, "not present in the combined schema maps"))

    @property
    def namespaces(self):
        return set(self.by_namespace)

    def validate(self, elem):
        """Return the list of error strings for one payload element."""
        schema = self.by_namespace[namespace(elem.tag)]
        errors = []
        for err in schema.iter_errors(elem):
            reason = getattr(err, "reason", None) or str(err)
            path = getattr(err, "path", None)
            text = one_line(reason)
            if path:
                text += f" (at {path})"
            errors.append(text)
        return errors


def one_line(obj):
    text = str(obj).strip()
    first = text.splitlines()[0] if text else repr(obj)
    return re.sub(r"\s+", " ", first).rstrip(" :")


def namespace(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def local_name(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def describe(elem):
    return f"<{local_name(elem.tag)} xmlns='{namespace(elem.tag)}'>"


def split_xml(text):
    """Return (xml_part, tail): the stanzas after the caption comment, and any
    non-XML text that follows the last complete top-level element."""
    m = LEADING_COMMENT.match(text)
    pos = m.end() if m else 0
    start = pos
    depth = 0
    n = len(text)
    while pos < n:
        if depth == 0:
            while pos < n and text[pos].isspace():
                pos += 1
            if pos >= n:
                break
            tok = MARKUP.match(text, pos) if text[pos] == "<" else None
            if tok is None:
                return text[start:pos], text[pos:]
        else:
            lt = text.find("<", pos)
            if lt < 0:
                break  # unclosed element: let the XML parser report it
            pos = lt
            tok = MARKUP.match(text, pos)
            if tok is None:
                break  # malformed markup: let the XML parser report it
        s = tok.group(0)
        if s.startswith("</"):
            depth -= 1
        elif s.startswith("<!") or s.startswith("<?"):
            pass
        elif not s.endswith("/>"):
            depth += 1
        pos = tok.end()
    return text[start:], ""


def check_document(schemas, text, tail_allowed=False):
    """Validate the payloads of one example text.

    Returns (payload_count, echoed, failures): echoed is the list of payload
    elements echoed in an <iq type='error'> (not validated), failures a list
    of (element description, reason)."""
    xml_part, tail = split_xml(text)
    if tail.strip() and not tail_allowed:
        snippet = one_line(tail)[:40]
        return 0, [], [("(document)", f"unexpected non-XML text after the stanzas: {snippet!r}")]
    try:
        root = ET.fromstring("<stanzas xmlns='jabber:client'>" + xml_part + "</stanzas>")
    except ET.ParseError as exc:
        return 0, [], [("(document)", f"not well-formed: {exc}")]

    schema_ns = schemas.namespaces
    parents = {child: parent for parent in root.iter() for child in parent}
    payloads = 0
    echoed = []
    failures = []
    for elem in root.iter():
        if namespace(elem.tag) not in schema_ns:
            continue
        parent = parents.get(elem)
        ancestor, nested = parent, False
        while ancestor is not None:
            if namespace(ancestor.tag) in schema_ns:
                nested = True
                break
            ancestor = parents.get(ancestor)
        if nested:
            continue  # validated as part of its top-level payload
        if parent is not None and local_name(parent.tag) == "iq" and parent.get("type") == "error":
            echoed.append(elem)  # original payload echoed in an error (RFC 6120 8.3.1)
            continue
        payloads += 1
        for reason in schemas.validate(elem):
            failures.append((describe(elem), reason))
    return payloads, echoed, failures


# (name, valid payload, broken payload). Each pair differs only by the defect.
NEGATIVE_CASES = [
    ("join with direction='sideways'",
     "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.example' direction='send'/>",
     "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.example' direction='sideways'/>"),
    ("output without a document",
     "<output xmlns='urn:xmpp:rayo:output:1'><document content-type='text/plain'>Hi</document></output>",
     "<output xmlns='urn:xmpp:rayo:output:1'/>"),
    ("end without a reason",
     "<end xmlns='urn:xmpp:rayo:1'><hungup/></end>",
     "<end xmlns='urn:xmpp:rayo:1'/>"),
    ("end with two reasons",
     "<end xmlns='urn:xmpp:rayo:1'><timeout/></end>",
     "<end xmlns='urn:xmpp:rayo:1'><timeout/><busy/></end>"),
    ("dial without 'to'",
     "<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825' from='tel:+14152226789'/>",
     "<dial xmlns='urn:xmpp:rayo:1' from='tel:+14152226789'/>"),
    ("reject with two reasons",
     "<reject xmlns='urn:xmpp:rayo:1'><busy/></reject>",
     "<reject xmlns='urn:xmpp:rayo:1'><busy/><decline/></reject>"),
    ("unknown element in urn:xmpp:rayo:1",
     "<answer xmlns='urn:xmpp:rayo:1'/>",
     "<answr xmlns='urn:xmpp:rayo:1'/>"),
    ("prompt without its output",
     "<prompt xmlns='urn:xmpp:rayo:prompt:1'>"
     "<output xmlns='urn:xmpp:rayo:output:1'><document url='http://example.com/a.ssml'/></output>"
     "<input xmlns='urn:xmpp:rayo:input:1'><grammar url='http://example.com/g.grxml'/></input></prompt>",
     "<prompt xmlns='urn:xmpp:rayo:prompt:1'>"
     "<input xmlns='urn:xmpp:rayo:input:1'><grammar url='http://example.com/g.grxml'/></input></prompt>"),
    ("input-timers-started with content",
     "<input-timers-started xmlns='urn:xmpp:rayo:prompt:1'/>",
     "<input-timers-started xmlns='urn:xmpp:rayo:prompt:1'>now</input-timers-started>"),
    ("complete without a reason",
     "<complete xmlns='urn:xmpp:rayo:ext:1'><stop xmlns='urn:xmpp:rayo:ext:complete:1'/></complete>",
     "<complete xmlns='urn:xmpp:rayo:ext:1'/>"),
    ("complete reason checked through the lax wildcard",
     "<complete xmlns='urn:xmpp:rayo:ext:1'><finish xmlns='urn:xmpp:rayo:output:complete:1'/></complete>",
     "<complete xmlns='urn:xmpp:rayo:ext:1'><finish xmlns='urn:xmpp:rayo:output:complete:1' bogus='1'/></complete>"),
    ("recording with a negative duration",
     "<complete xmlns='urn:xmpp:rayo:ext:1'><stop xmlns='urn:xmpp:rayo:ext:complete:1'/>"
     "<recording xmlns='urn:xmpp:rayo:record:complete:1' uri='http://example.com/r.wav' duration='0' size='1'/></complete>",
     "<complete xmlns='urn:xmpp:rayo:ext:1'><stop xmlns='urn:xmpp:rayo:ext:complete:1'/>"
     "<recording xmlns='urn:xmpp:rayo:record:complete:1' uri='http://example.com/r.wav' duration='-5' size='1'/></complete>"),
    ("seek with direction='sideways'",
     "<seek xmlns='urn:xmpp:rayo:output:1' direction='back' amount='1000'/>",
     "<seek xmlns='urn:xmpp:rayo:output:1' direction='sideways' amount='1000'/>"),
    ("cmr without an algorithm",
     "<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:all'/>",
     "<cmr xmlns='urn:xmpp:cmr:0'/>"),
]


def run_negative_checks(schemas):
    """Return the number of failed checks, printing one line per case."""
    failed = 0
    for name, good, bad in NEGATIVE_CASES:
        problems = []
        good_doc = f"<iq type='set' id='neg'>{good}</iq>"
        bad_doc = f"<iq type='set' id='neg'>{bad}</iq>"
        n, _, errs = check_document(schemas, good_doc)
        if n != 1 or errs:
            detail = errs[0][1] if errs else f"{n} payloads found"
            problems.append(f"valid control payload not accepted: {detail}")
        n, _, errs = check_document(schemas, bad_doc)
        if n != 1:
            problems.append(f"broken payload not picked up as a payload ({n} payloads)")
        elif not errs:
            problems.append("broken payload was ACCEPTED by the schemas")
        if problems:
            failed += 1
            print(f"FAIL negative check {name}: {'; '.join(problems)}")
        else:
            print(f"ok negative check {name}: rejected ({errs[0][1]})")
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "examples", nargs="?", default=None,
        help="directory holding the xep-NNNN-SEQ.xml examples "
             "(default: specs/examples relative to the repository root)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="also report, for information, whether each payload echoed in an <iq type='error'> "
             "(not validated, never a failure) would be valid",
    )
    parser.add_argument(
        "--expect-files", type=int, default=EXPECTED_EXAMPLE_COUNT,
        help=f"number of example files expected (default {EXPECTED_EXAMPLE_COUNT}; 0 disables the check)",
    )
    args = parser.parse_args(argv)
    examples_dir = Path(args.examples) if args.examples else DEFAULT_EXAMPLES
    examples_dir = examples_dir.resolve()

    files = sorted(examples_dir.glob("xep-*.xml")) if examples_dir.is_dir() else []
    ok = True
    if not files:
        print(f"FAIL examples: no xep-*.xml files in {examples_dir}")
        ok = False
    elif args.expect_files and len(files) != args.expect_files:
        print(f"FAIL examples: expected {args.expect_files} example files in {examples_dir}, found {len(files)}")
        ok = False

    schemas = SchemaSet(XSD_DIR)
    if schemas.errors:
        for name, reason in schemas.errors:
            print(f"FAIL schema {name}: {reason}")
        print(f"0 passed, {len(files)} failed")
        return 1
    print(f"ok schemas: {len(schemas.namespaces)} schemas in {XSD_DIR} are valid XSD 1.0")

    passed = failed = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"FAIL {path.name}: (document): {one_line(exc)}")
            failed += 1
            continue
        payloads, echoed, failures = check_document(
            schemas, text, tail_allowed=path.name in NON_XML_TAIL_ALLOWED
        )
        if failures:
            failed += 1
            elem, reason = failures[0]
            print(f"FAIL {path.name}: {elem}: {reason}")
            for elem, reason in failures[1:]:
                print(f"     {path.name}: {elem}: {reason}")
        else:
            passed += 1
            print(f"ok {path.name} ({payloads} payloads)")
        if args.verbose:
            for elem in echoed:
                errs = schemas.validate(elem)
                verdict = f"would be invalid: {errs[0]}" if errs else "would be valid"
                print(f"   note {path.name}: {describe(elem)} echoed in <iq type='error'>, "
                      f"not validated; {verdict}")

    if run_negative_checks(schemas):
        ok = False

    print(f"{passed} passed, {failed} failed")
    return 0 if ok and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
