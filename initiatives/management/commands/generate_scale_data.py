"""`manage.py generate_scale_data`: synthetic data at national scale, for the benchmarks.

    python manage.py generate_scale_data --initiatives 100000 --responses 1000000 --seed 1

The generator lives beside the benchmarks (`bench/scale_data.py`, which says what the rows
look like and which rules they keep), so this command needs a source checkout.
"""

import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Generate realistic synthetic initiatives and survey records in bulk, for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--initiatives", type=int, default=1000)
        parser.add_argument("--responses", type=int, default=10000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--waves", type=int, default=3, help="Survey waves to spread over.")
        parser.add_argument(
            "--no-analyze",
            action="store_true",
            help="Skip VACUUM ANALYZE afterwards (PostgreSQL).",
        )

    def handle(self, *args, initiatives, responses, seed, waves, no_analyze, **options):
        try:
            from bench.scale_data import generate
        except ImportError as missing:
            raise CommandError(
                "The data generator is bench/scale_data.py, in coprod's source checkout; "
                "run this command from there."
            ) from missing
        begun = time.monotonic()
        try:
            counts = generate(
                initiatives=initiatives,
                responses=responses,
                seed=seed,
                waves=waves,
                analyze=not no_analyze,
            )
        except ValueError as problem:
            raise CommandError(str(problem)) from problem
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} rows")
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {initiatives} initiatives and {responses} responses "
                f"(seed {seed}) in {time.monotonic() - begun:.1f} s."
            )
        )
