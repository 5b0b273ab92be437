"""Write a synthetic survey file of N rows in the import format, the same for the same seed.

    python bench/survey_generate.py 100000 -o bench/data/survey-100k.csv [--seed 2010]

Respondents in OECD countries answer every item of the three questions for a few
sectors each; the chance of ticking an item is near the value the OECD published,
shifted a little per country, so that the reports look plausible.
"""

import argparse
import contextlib
import csv
import random
import sys

COUNTRIES = (
    "AUS AUT BEL CAN CHL COL CRI CZE DNK EST FIN FRA DEU GRC HUN ISL IRL ISR ITA JPN KOR "
    "LVA LTU LUX MEX NLD NZL NOR POL PRT SVK SVN ESP SWE CHE TUR GBR USA"
).split()
SECTORS = [f"{n:02d}" for n in range(1, 11)]
# (question, item, chance of a tick)
ITEMS = [
    ("reasons", "involvement", 0.60),
    ("reasons", "quality", 0.60),
    ("reasons", "costs", 0.23),
    ("reasons", "satisfaction", 0.50),
    ("barriers", "resources", 0.42),
    ("barriers", "resistance", 0.36),
    ("barriers", "incentives", 0.31),
    ("barriers", "evidence", 0.29),
    ("factors", "leadership", 0.80),
    ("factors", "engagement", 0.76),
    ("factors", "frameworks", 0.73),
    ("factors", "skills", 0.55),
]
HEADER = ["wave", "country", "respondent", "sector", "question", "item", "answer"]


def rows(count, *, seed, wave):
    """Yield `count` rows, respondent by respondent."""
    rng = random.Random(seed)
    shift = {country: rng.uniform(-0.12, 0.12) for country in COUNTRIES}
    made = 0
    respondent = 0
    while made < count:
        respondent += 1
        country = rng.choice(COUNTRIES)
        code = f"{country}-{respondent:07d}"
        for sector in sorted(rng.sample(SECTORS, rng.randint(1, 4))):
            for question, item, chance in ITEMS:
                tick = rng.random() < min(max(chance + shift[country], 0.02), 0.98)
                yield (wave, country, code, sector, question, item, "yes" if tick else "no")
                made += 1
                if made == count:
                    return


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, help="how many data rows")
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    parser.add_argument("--seed", type=int, default=2010)
    parser.add_argument("--wave", default="SYNTH-2024", help="the wave code in every row")
    args = parser.parse_args(argv)
    with (
        open(args.output, "w", encoding="utf-8", newline="")
        if args.output
        else contextlib.nullcontext(sys.stdout)
    ) as output:
        writer = csv.writer(output, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows(args.rows, seed=args.seed, wave=args.wave))


if __name__ == "__main__":
    main()
