#!/usr/bin/env python3
"""Derive fairgig's skills list from the ESCO v1.1.1 classification.

Reads ../shared/data/skills/esco-v1.1.1/ESCO-v1.1.1-classification-en-csv.zip
and writes crates/ai/data/skills.tsv: one skill per line,
`esco_uri <TAB> preferred label <TAB> match terms separated by |`.

Kept: every "knowledge" skill and every skill of ESCO's digital skills
collection whose preferred label has at most four words (longer labels are
task descriptions such as "manage musical staff", which never appear verbatim
in a brief). Match terms are the lower-cased preferred and alternative labels
of at most four words, plus each label without a trailing parenthetical
("Python (computer programming)" -> "python").

Terms of three characters or fewer are ambiguous in running text ("it",
"st", "did", "ict" for both "computer technology" and "in-circuit test"):
one is kept only when it is its skill's own label and no other skill's term,
or a technology acronym listed in ACRONYMS.

Run: python3 tools/derive_skills.py  (deterministic; the output is committed)
"""
import csv
import io
import pathlib
import re
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
ZIP = ROOT.parent / "shared/data/skills/esco-v1.1.1/ESCO-v1.1.1-classification-en-csv.zip"
OUT = ROOT / "crates/ai/data/skills.tsv"
SUPPLEMENT = ROOT / "tools/skills-supplement.tsv"
MAX_WORDS = 4
SHORT = 3
# Short terms that name one technology in any brief that uses them.
ACRONYMS = {
    "aws", "c#", "c++", "crm", "css", "ec2", "erp", "gcc", "gis", "git", "gps", "hci", "ios",
    "iot", "k8s", "llm", "lua", "ml", "nlp", "ocr", "php", "seo", "sql", "ssl", "tls", "uml",
    "vue",
}
HEADER = """# fairgig skills list, derived from ESCO v1.1.1 (English) by tools/derive_skills.py.
# Source: ESCO - European Skills, Competences, Qualifications and Occupations,
# (c) European Union, https://esco.ec.europa.eu. Reused under Commission
# Decision 2011/833/EU (reuse of Commission documents), with attribution;
# this file is a modified (filtered, re-formatted) extract. Lines whose URI
# starts with urn:fairgig: come from tools/skills-supplement.tsv (fairgig's own
# additions for technologies ESCO v1.1.1 does not name).
# Columns: esco_uri, preferred_label, match terms (lower case, |-separated).
"""


def terms_of(label):
    label = " ".join(label.split())
    out = set()
    if 0 < len(label.split()) <= MAX_WORDS:
        out.add(label.lower())
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", label).strip()
    if bare and bare != label and len(bare.split()) <= MAX_WORDS:
        out.add(bare.lower())
    return out


def main():
    with zipfile.ZipFile(ZIP) as archive:
        skills = list(csv.DictReader(io.TextIOWrapper(archive.open("skills_en.csv"), "utf-8")))
        digital = {
            row["conceptUri"]
            for row in csv.DictReader(io.TextIOWrapper(archive.open("digitalSkillsCollection_en.csv"), "utf-8"))
        }
    rows = []
    for skill in skills:
        label = " ".join(skill["preferredLabel"].split())
        if skill["status"] != "released" or len(label.split()) > MAX_WORDS:
            continue
        if skill["skillType"] != "knowledge" and skill["conceptUri"] not in digital:
            continue
        terms = terms_of(label)
        for alt in skill["altLabels"].splitlines():
            terms |= terms_of(alt)
        terms = sorted(t for t in terms if len(t) >= 2 and "\t" not in t and "|" not in t)
        if terms:
            rows.append((skill["conceptUri"], label, "|".join(terms)))
    uses = {}
    for _, _, terms in rows:
        for term in terms.split("|"):
            uses[term] = uses.get(term, 0) + 1

    def unambiguous(term, label):
        if len(term) > SHORT or term in ACRONYMS:
            return True
        return term == label.lower() and uses[term] == 1

    rows = [
        (uri, label, "|".join(t for t in terms.split("|") if unambiguous(t, label)))
        for uri, label, terms in rows
    ]
    rows = [row for row in rows if row[2]]
    known = {term for row in rows for term in row[2].split("|")}
    for line in SUPPLEMENT.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        slug, label, terms = line.split("\t")
        fresh = [t for t in terms.split("|") if t not in known]
        if fresh:
            rows.append((f"urn:fairgig:skill:{slug}", label, "|".join(sorted(fresh))))
    rows.sort(key=lambda row: row[1].lower())
    with open(OUT, "w", encoding="utf-8", newline="\n") as out:
        out.write(HEADER)
        for row in rows:
            out.write("\t".join(row) + "\n")
    print(f"wrote {len(rows)} skills to {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
