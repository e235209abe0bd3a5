#!/usr/bin/env python3
"""Validates an XML file against its schema, for the tests.

An XSD 1.0 (`--schema x.xsd`) is read by `xmlschema`; a RELAX NG schema in
compact syntax (`--schema x.rnc`, e.g. Atom's from RFC 4287) by lxml, which
converts it with rnc2rng. `--require XPATH` adds a rule the document must
meet besides (what a schema's Schematron annotations say, which RELAX NG
validators ignore). All of them are Debian packages (python3-xmlschema,
python3-lxml, python3-rnc2rng).

A sitemap with hreflang alternates holds `xhtml:link` elements, which the
sitemap schema admits under a *strict* wildcard: a validator must know the
XHTML schema too, or it refuses them. `--namespace URI=XSD` adds such a
schema; `--namespace URI=xmlschema:XHTML/xhtml1-strict.xsd` takes it from
the schemas the `xmlschema` package ships (Debian's python3-xmlschema), so
nothing is fetched while validating.

Exit status 0 when valid; 1 with every error on stderr when not; 2 on bad
usage.
"""

ATOM_NS = {"atom": "http://www.w3.org/2005/Atom"}

import argparse
import os
import re
import sys

import rnc2rng
import xmlschema
from lxml import etree


def schema_path(value: str) -> str:
    """A path, or `xmlschema:REL` for a schema shipped with the package."""
    prefix = "xmlschema:"
    if value.startswith(prefix):
        return os.path.join(os.path.dirname(xmlschema.__file__), "schemas", value[len(prefix):])
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--schema", required=True, help="the XSD or RELAX NG (.rnc) the document follows"
    )
    parser.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="URI=XSD",
        help="a schema for another namespace the document uses",
    )
    parser.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="XPATH",
        help="an XPath 1.0 test that must be true (prefix atom: is bound)",
    )
    parser.add_argument("document")
    args = parser.parse_args()

    locations = []
    for pair in args.namespace:
        uri, sep, path = pair.partition("=")
        if not sep:
            parser.error(f"--namespace wants URI=XSD, got {pair!r}")
        locations.append((uri, schema_path(path)))

    if args.schema.endswith(".rnc"):
        errors = relax_ng_errors(args.schema, args.document)
    else:
        schema = xmlschema.XMLSchema(args.schema, locations=locations or None)
        errors = [f"{e.reason} at {e.path}" for e in schema.iter_errors(args.document)]
    document = etree.parse(args.document)
    errors += [f"not true: {test}" for test in args.require if not document.xpath(test, namespaces=ATOM_NS)]
    for error in errors:
        print(f"{args.document}: {error}", file=sys.stderr)
    return 1 if errors else 0


def relax_ng_errors(schema: str, document: str) -> list:
    """The document's errors against a RELAX NG schema in compact syntax."""
    with open(schema, encoding="utf-8") as source:
        converted = rnc2rng.dumps(rnc2rng.loads(source.read()))
    # rnc2rng declares `namespace local = ""` as xmlns:local="", which XML
    # namespaces forbid; the grammar names that namespace as ns="" anyway.
    converted = re.sub(r'\s+xmlns:\w+=""', "", converted)
    grammar = etree.RelaxNG(etree.fromstring(converted.encode("utf-8")))
    if grammar.validate(etree.parse(document)):
        return []
    return [f"line {e.line}: {e.message}" for e in grammar.error_log]

if __name__ == "__main__":
    sys.exit(main())
