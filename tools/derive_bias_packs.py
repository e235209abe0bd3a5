#!/usr/bin/env python3
"""Build fairgig's bias rule packs (TOML) from the MIT-licensed sources in
../shared/data/bias. Deterministic; the output is committed.

  retext-equality 7.1.0 patterns (+ categories from its YAML data files)
      -> crates/ai/data/bias/equality.toml
  cuss 2.2.0 profanity list (sureness 0-2)
      -> crates/ai/data/bias/profanity.toml

Run: python3 tools/derive_bias_packs.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared/data/bias"
OUT = ROOT / "crates/ai/data/bias"


def toml_string(value):
    return json.dumps(value, ensure_ascii=False)


def toml_list(values):
    return "[" + ", ".join(toml_string(v) for v in values) + "]"


def yaml_categories():
    """inconsiderate-phrase set -> category (the YAML file's name)."""
    categories = {}
    for path in sorted((DATA / "retext-equality-192dedd-data-en").glob("*.yml")):
        current = None
        section = None
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.rstrip()
            if line.startswith("- type:"):
                if current:
                    categories[frozenset(current)] = path.stem
                current = []
                section = None
            elif line.strip() == "inconsiderate:":
                section = "inconsiderate"
            elif line.startswith("  ") and not line.startswith("    "):
                section = None if line.strip() != "inconsiderate:" else "inconsiderate"
            elif section == "inconsiderate" and line.startswith("    "):
                item = line.strip()
                if item.startswith("- "):
                    item = item[2:]
                else:
                    item = item.split(":")[0]
                current.append(item.strip().strip("'\"").lower())
        if current:
            categories[frozenset(current)] = path.stem
    return categories


# Contexts where a retext phrase is ordinary usage, not about people
# (found by the labelled evaluation, crates/ai/data/eval): "special" is a
# euphemism for disability only when it describes people.
EXCEPTIONS = {
    "special": [
        "special projects", "special project", "special events", "special event",
        "special schools", "special school", "special offer", "special offers",
        "special thanks", "special interest", "special purpose", "special edition",
    ],
}


def equality():
    source = json.loads((DATA / "retext-equality-7.1.0.patterns-en.json").read_text(encoding="utf-8"))
    categories = yaml_categories()
    out = [
        "# fairgig bias rule pack: inconsiderate language, general text.",
        "# Derived by tools/derive_bias_packs.py from retext-equality 7.1.0 (npm build of",
        "# retextjs/retext-equality data/en @192dedd), (c) Titus Wormer, MIT licence:",
        "# https://github.com/retextjs/retext-equality/blob/main/license",
        "# Each rule: id, category, severity, type (basic | or), patterns (with the group a",
        "# pattern names, for `or` rules), suggestions, explanation, source.",
        "",
    ]
    for rule in source["patterns"]:
        keys = [k.lower() for k in rule["inconsiderate"]]
        category = categories.get(frozenset(keys))
        if category is None:
            # The npm build sometimes normalises keys; take the YAML entry sharing most phrases.
            overlap = max(categories.items(), key=lambda item: len(item[0] & set(keys)))
            category = overlap[1] if overlap[0] & set(keys) else "misc"
        out.append("[[rule]]")
        out.append(f"id = {toml_string(rule['id'])}")
        out.append(f"category = {toml_string(category)}")
        out.append('severity = "warning"')
        out.append(f"type = {toml_string(rule['type'])}")
        if rule.get("apostrophe"):
            out.append("apostrophe = true")
        out.append(f"patterns = {toml_list(list(rule['inconsiderate'].keys()))}")
        out.append(f"groups = {toml_list(list(rule['inconsiderate'].values()))}")
        out.append(f"suggestions = {toml_list(list(rule.get('considerate', {}).keys()))}")
        if rule.get("note"):
            out.append(f"explanation = {toml_string(rule['note'])}")
        if rule.get("condition"):
            out.append(f"condition = {toml_string(rule['condition'])}")
        if rule["id"] in EXCEPTIONS:
            out.append(f"except = {toml_list(EXCEPTIONS[rule['id']])}")
        out.append('source = "retext-equality 7.1.0 (MIT)"')
        out.append("")
    (OUT / "equality.toml").write_text("\n".join(out), encoding="utf-8")
    return len(source["patterns"])


def profanity():
    cuss = json.loads((DATA / "cuss-2.2.0.en.json").read_text(encoding="utf-8"))["cuss"]
    severity = {0: "info", 1: "warning", 2: "error"}
    out = [
        "# fairgig bias rule pack: profanity, for reviews and profiles.",
        "# Derived by tools/derive_bias_packs.py from cuss 2.2.0 (npm), (c) Titus Wormer,",
        "# MIT licence. Severity follows cuss's sureness: 0 info (may be innocent),",
        "# 1 warning, 2 error (certainly profane). Plurals are matched too.",
        "",
    ]
    words = dict(cuss)
    for word, sureness in cuss.items():
        if " " in word:
            continue
        plural = word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")
        words.setdefault(plural, sureness)
    for word in sorted(words):
        out.append("[[rule]]")
        out.append(f"id = {toml_string(word)}")
        out.append('category = "profanity"')
        out.append(f"severity = {toml_string(severity[words[word]])}")
        out.append('type = "basic"')
        # Apostrophes are kept: "he'll" is not "hell".
        out.append("apostrophe = true")
        out.append(f"patterns = {toml_list([word])}")
        out.append('source = "cuss 2.2.0 (MIT)"')
        out.append("")
    (OUT / "profanity.toml").write_text("\n".join(out), encoding="utf-8")
    return len(words)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"equality: {equality()} rules; profanity: {profanity()} rules")


def expand_regex(pattern, limit=64):
    """All strings a simple trigger regex matches (`x?`, `(a|b)`, `[ae]`,
    `[ -]*`), with `*`/`+` taken at most once; lookaheads are dropped (the
    caller lists their phrases as exceptions)."""
    import re._parser as sre

    def expand(items):
        results = [""]
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                options = [chr(arg)]
            elif name == "IN":
                options = []
                for kind, value in arg:
                    if str(kind) == "LITERAL":
                        options.append(chr(value))
                    elif str(kind) == "RANGE":
                        options.extend(chr(c) for c in range(value[0], value[1] + 1))
            elif name == "BRANCH":
                options = [s for branch in arg[1] for s in expand(branch)]
            elif name == "SUBPATTERN":
                options = expand(arg[-1])
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                low, high, body = arg
                inner = expand(body)
                options = ([""] if low == 0 else []) + inner
            elif name in ("ASSERT_NOT", "AT"):
                options = [""]
            else:
                raise ValueError(f"unsupported regex element {name} in {pattern}")
            results = [r + o for r in results for o in options][: limit * 4]
        return results

    out = []
    for text in expand(list(sre.parse(pattern))):
        text = " ".join(text.split())
        if text and text not in out:
            out.append(text)
    return out[:limit]


def jobad():
    import csv

    out = [
        "# fairgig bias rule pack: job-ad language.",
        "# Derived by tools/derive_bias_packs.py from",
        "#  - okuye/inclusive-job-ad-analyser @3f78576 bias_terms.csv (MIT): terms, categories,",
        "#    suggestions, explanations, context exceptions;",
        "#  - rowanmanning/joblint @3b3fbb4 rules (MIT), culture and realism rules (gendered words",
        "#    and profanity are left to the equality and profanity packs; tooling rules are not bias).",
        "",
    ]
    severity = {"high": "warning", "medium": "warning", "low": "info"}
    count = 0
    path = DATA / "inclusive-job-ad-analyser-3f78576/bias_terms.csv"
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            term = row["term"].strip().lower()
            slug = "jobad-" + "-".join(term.replace("'", "").split())
            out += [
                "[[rule]]",
                f"id = {toml_string(slug)}",
                f"category = {toml_string(row['category'].strip())}",
                f"severity = {toml_string(severity.get(row['severity'].strip(), 'warning'))}",
                'type = "basic"',
                f"patterns = {toml_list([term])}",
                f"suggestions = {toml_list([s.strip() for s in row['suggestion'].split('|') if s.strip()])}",
                f"explanation = {toml_string(row['explanation'].strip())}",
            ]
            exceptions = [e.strip().lower() for e in row["context_exceptions"].split("|") if e.strip()]
            if exceptions:
                out.append(f"except = {toml_list(exceptions)}")
            out += ['source = "inclusive-job-ad-analyser @3f78576 (MIT)"', ""]
            count += 1
    keep = {
        "Use of derogatory gendered term", "Mention of facial hair", "Use of sexualised terms",
        "Use of bro terminology", "Use of dumb job titles", "Mention of hollow benefits",
        "Competitive environment", "New starter expectations", "Use of Meritocracy",
        'Use of "visionary" terminology', "Need to reassure",
    }
    rules = json.loads((DATA / "joblint-3b3fbb4/joblint-rules.json").read_text(encoding="utf-8"))["rules"]
    level = {"error": "warning", "warning": "warning", "notice": "info"}
    for rule in rules:
        if rule["name"] not in keep:
            continue
        patterns, exceptions = [], []
        for trigger in rule["triggers"]:
            try:
                expanded = expand_regex(trigger)
            except ValueError:
                # Character wildcards ("top of .{2,8} (game|class)") have no phrase form.
                continue
            for phrase in expanded:
                if phrase not in patterns:
                    patterns.append(phrase)
            for ahead in __import__("re").findall(r"\(\?!([^)]*)\)", trigger):
                base = __import__("re").sub(r"\(\?!.*", "", trigger)
                for tail in ahead.split("|"):
                    exceptions += [p + tail for p in expand_regex(base)]
        slug = "joblint-" + "-".join("".join(c if c.isalnum() else " " for c in rule["name"].lower()).split())
        out += [
            "[[rule]]",
            f"id = {toml_string(slug)}",
            f"category = {toml_string(list(rule['increment'])[0])}",
            f"severity = {toml_string(level[rule['level']])}",
            'type = "basic"',
            f"patterns = {toml_list(patterns)}",
            f"explanation = {toml_string(rule['reason'] + ' ' + rule['solution'])}",
        ]
        if exceptions:
            out.append(f"except = {toml_list(sorted(set(e.strip() for e in exceptions)))}")
        out += ['source = "joblint @3b3fbb4 (MIT)"', ""]
        count += 1
    (OUT / "jobad.toml").write_text("\n".join(out), encoding="utf-8")
    return count


# Phrases that are ordinary words in lower case: "ad" is the era abbreviation
# only as "AD" (case-sensitive); "Job Ad" and "our ad" are job ads, and a few
# product names say AD too.
CASE_SENSITIVE = {
    "ad": (["AD"], ["job ad", "azure ad", "ad ds", "ad fs", "ad connect"]),
}


def inclusive():
    library = json.loads((DATA / "jhogue-inclusive-language-5d88a73/library.json").read_text(encoding="utf-8"))
    out = [
        "# fairgig bias rule pack: exclusionary idioms and phrases.",
        "# Derived by tools/derive_bias_packs.py from jhogue/inclusive-language @5d88a73",
        "# library.json (MIT, (c) 2022 J. Hogue); each entry cites its own source.",
        "",
    ]
    seen = set()
    for entry in library["entries"]:
        phrase = " ".join(entry["phrase"].lower().split())
        slug = "phrase-" + "-".join("".join(c if c.isalnum() else " " for c in phrase).split())
        if not phrase or slug in seen:
            continue
        seen.add(slug)
        suggestion = (entry.get("suggestion") or "").strip()
        suggestions = [] if suggestion.startswith("[") else [s.strip() for s in suggestion.split(",") if s.strip()]
        patterns, exceptions = CASE_SENSITIVE.get(phrase, ([phrase], []))
        out += [
            "[[rule]]",
            f"id = {toml_string(slug)}",
            'category = "idiom"',
            'severity = "info"',
            'type = "basic"',
            f"patterns = {toml_list(patterns)}",
            f"suggestions = {toml_list(suggestions)}",
            f"explanation = {toml_string((entry.get('explanation') or '').strip())}",
            f"source = {toml_string((entry.get('source_name') or 'uncited').strip() + ' via jhogue/inclusive-language (MIT)')}",
        ]
        if exceptions:
            out.append(f"except = {toml_list(exceptions)}")
        out.append("")
    (OUT / "inclusive.toml").write_text("\n".join(out), encoding="utf-8")
    return len(seen)


if __name__ == "__main__":
    print(f"jobad: {jobad()} rules; inclusive: {inclusive()} rules")
