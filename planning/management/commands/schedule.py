"""Solve a scheduling problem file: ``manage.py schedule FILE [--time-limit S] [--output OUT]``.

A thin wrapper over the pure engine (`planning.engines.scheduling`): read the file (the engine's JSON
format or the OR-Library job-shop text layout), solve, print the figures, optionally write
the schedule. It touches no database.
"""

from django.core.management.base import BaseCommand, CommandError

from planning.engines.scheduling import NoScheduleError, ProblemError, SolveOptions, schedule_solve
from planning.engines.scheduling.io import problem_load, result_summary, schedule_rows_json


class Command(BaseCommand):
    help = (
        "Schedule the problem in FILE (engine JSON or job-shop text) and print makespan, "
        "bound and solver status."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="problem file: engine JSON or job-shop text")
        parser.add_argument(
            "--time-limit",
            type=float,
            default=10.0,
            help="seconds (default 10); from 200 operations up the limit covers the whole solve",
        )
        parser.add_argument("--output", help="write the schedule to this JSON file")
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="CP-SAT workers (default 0: one per core, at least 4)",
        )
        parser.add_argument(
            "--bound-workers",
            type=int,
            default=SolveOptions.lns_bound_workers,
            help="CP-SAT workers on the full model beside the search, for a proven bound "
            "(default 0: all the time goes to the search)",
        )
        parser.add_argument(
            "--max-cpsat-operations",
            type=int,
            default=SolveOptions.max_cpsat_operations,
            help="above this many operations use the dispatching heuristic only",
        )

    def handle(self, *args, **options):
        if options["time_limit"] < 0:
            raise CommandError("--time-limit must not be negative")
        if options["workers"] < 0:
            raise CommandError("--workers must not be negative")
        if options["bound_workers"] < 0:
            raise CommandError("--bound-workers must not be negative")
        try:
            problem = problem_load(options["file"])
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror or exc}") from None
        except ProblemError as exc:
            raise CommandError(f"{options['file']}: {exc}") from None
        solve_options = SolveOptions(
            time_limit=options["time_limit"],
            workers=options["workers"],
            max_cpsat_operations=options["max_cpsat_operations"],
            lns_bound_workers=options["bound_workers"],
        )
        try:
            result = schedule_solve(problem, solve_options)
        except (ProblemError, NoScheduleError) as exc:
            raise CommandError(f"{options['file']}: {exc}") from None

        summary = result_summary(result)
        self.stdout.write(f"status: {result.status}")
        self.stdout.write(f"makespan: {result.makespan}")
        self.stdout.write(f"makespan bound: {result.makespan_bound}")
        if result.objective == "weighted_tardiness":
            self.stdout.write(f"weighted tardiness: {result.weighted_tardiness}")
            self.stdout.write(f"weighted tardiness bound: {result.tardiness_bound}")
        heuristic = f"heuristic ({result.heuristic_rule}): makespan {result.heuristic_makespan}"
        if result.objective == "weighted_tardiness":
            heuristic += f", weighted tardiness {result.heuristic_weighted_tardiness}"
        self.stdout.write(heuristic)
        self.stdout.write(f"operations: {summary['operations']}, time: {summary['wall_time']} s")
        if options["output"]:
            try:
                with open(options["output"], "w", encoding="utf-8") as out:
                    out.write(schedule_rows_json(result))
            except OSError as exc:
                raise CommandError(
                    f"cannot write {options['output']}: {exc.strerror or exc}"
                ) from None
            self.stdout.write(f"schedule written to {options['output']}")
