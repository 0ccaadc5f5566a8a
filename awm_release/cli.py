"""`awm`, the command line of awm-release: bundle and AWM-1K commands here, other groups imported when used."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table
from rich.text import Text

from awm_release.awm1k import read_awm1k, write_awm1k
from awm_release.bundle import BundleError, bundle_from_dict
from awm_release.bundle_io import iter_bundle_files, read_bundle, read_bundle_json, write_bundle
from awm_release.inspection import Inspection, inspect_bundle
from awm_release.lazy_commands import LazyCommand, lazy_group
from awm_release.release.reading import read_bundle_files
from awm_release.demo import demo_bundle_ids, load_demo_bundle
from awm_release.terminal import labelled, plain_console, print_error

console = plain_console()
err_console = plain_console(stderr=True)  # errors stay on one line, greppable
# Help is click's plain formatter everywhere (rich_markup_mode=None): Rich's option tables cut long option names and
# values at 80 columns, and read bracketed text as markup.
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Agent World Model: synthetic, SQLite-backed tool-use environments (bundles) for agentic RL.\n\n"
                       "Import and check bundles, pack and publish the dataset release, synthesize new bundles, run "
                       "agents and evaluations, prepare training, and browse runs. To serve bundles as tool APIs "
                       "(REST, MCP, OpenEnv), run awm-serve.",
                  # Command groups of other modules, imported when used.
                  cls=lazy_group(
                      agent=LazyCommand("awm_release.agent.cli:agent_command",
                                        "Run one agent episode on one task and write its run folder (trajectory, initial "
                                        "and final databases, verification)."),
                      view=LazyCommand("awm_release.viewer.cli:view_command",
                                       "Browse run folders in a web browser: evaluations, conversations, tool calls, "
                                       "database diffs and verdicts."),
                      release=LazyCommand("awm_release.release.cli:release_app",
                                          "The dataset release: pack bundles into a Hugging Face dataset, push it, "
                                          "inspect it."),
                      gen=LazyCommand("awm_release.synthesis.cli:gen_app",
                                      "Synthesize environment bundles with any OpenAI-compatible LLM."),
                      eval=LazyCommand("awm_release.agent.cli:eval_app",
                                       "Run k episodes per task of a dataset split with the paper's agent protocol, "
                                       "verify each, and report pass@k."),
                      train=LazyCommand("awm_release.training.cli:train_app",
                                        "Training with verl (recipes/verl) or TRL (recipes/trl)."),
                      runs=LazyCommand("awm_release.viewer.cli:runs_app",
                                       "Inspect run folders (trajectory, initial and final databases, verification).")))
bundle_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Check and maintain bundle files.",
                         cls=lazy_group(check=LazyCommand("awm_release.check.cli:check_command",
                                                          "Run each bundle the original AWM way and in awm-serve, call "
                                                          "every tool, and compare.")))
app.add_typer(bundle_app, name="bundle")


def _fail(message: str) -> typer.Exit:
    print_error(err_console, message)
    return typer.Exit(2)


@app.command("import-awm1k")
def import_awm1k(
    source: Annotated[Path, typer.Argument(help="Folder with any subset of the eight gen_*.jsonl files.")],
    out: Annotated[Path, typer.Argument(help="Folder to write one <bundle_id>.json per scenario into.")],
    allow_problems: Annotated[bool, typer.Option(help="Exit 0 even when some bundles have problems (they are still written, "
                                                      "and later commands quarantine what they cannot use).")] = False,
) -> None:
    """Import AgentWorldModel-1K files as bundles, then validate what was written and report every bundle.

    Each bundle is complete, partial (lacks parts, e.g. a scenario without code) or has problems, each with its
    location and reason: a verifier that does not parse, SQL statements
    SQLite rejects (with table and SQL), tables that end up missing, routes that share a method and path.
    Exit code 0 only when no bundle has problems, or with --allow-problems.

    Round trip is lossless: `awm export-awm1k OUT --out DIR` writes the original records back byte for byte.
    """
    try:
        result = read_awm1k(source)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    written = [write_bundle(bundle, out) for bundle in track(result.bundles, description="writing bundles", console=console,
                                                               transient=True)]
    unreadable: list[BundleError] = []
    checked = {r.bundle.bundle_id: r.measured for r in track(
        read_bundle_files(written, skipped=unreadable, measure=inspect_bundle), description="validating what was written",
        total=len(written), console=console, transient=True)}
    table = Table("bundle", "status", "records", "lacks", "problems", title=f"{len(result.bundles)} bundle(s) -> {out}")
    broken = len(unreadable)
    for bundle in result.bundles:
        note = result.notes[bundle.bundle_id]
        inspection: Inspection | None = checked.get(bundle.bundle_id)
        note.problems = inspection.problems if inspection else ["the written file cannot be read back (see below)"]
        broken += note.status == "problems"
        table.add_row(bundle.bundle_id, Text(note.status, style=_STATUS_STYLE[note.status]), str(sum(note.sources.values())),
                      "; ".join(note.missing) or "-", str(len(note.problems) + len(note.errors)) if note.status == "problems" else "-")
    console.print(table)
    for bundle in result.bundles:
        note = result.notes[bundle.bundle_id]
        lines = note.errors + note.problems + [f"duplicate record {d}: the first is used, this one still exports" for d in note.duplicates]
        if lines:
            console.print(Text(bundle.bundle_id, style="bold"), f"({out / (bundle.bundle_id + '.json')}):")
            for line in lines[:_SHOWN]:
                console.print(f"  - {line}")
            if len(lines) > _SHOWN:
                console.print(f"  ... and {len(lines) - _SHOWN} more: `awm bundle validate {out / (bundle.bundle_id + '.json')}` "
                              "lists them all")
    for error in unreadable:
        print_error(console, error.one_line())
    counts = Counter(result.notes[b.bundle_id].status for b in result.bundles)
    console.print(f"{counts['complete']} complete, {counts['partial']} partial, {counts['problems']} with problems")
    for error in result.file_errors:
        console.print(*labelled("warning", "yellow", error))
    if (broken or result.file_errors) and not allow_problems:
        console.print("exit 1: some bundles have problems (they were written; later commands leave out what they cannot "
                      "use); pass --allow-problems to accept them")
        raise typer.Exit(1)


_STATUS_STYLE = {"complete": "green", "partial": "yellow", "problems": "red"}
_SHOWN = 20  # problem lines shown per bundle; `awm bundle validate` shows all


@app.command("export-awm1k")
def export_awm1k(
    bundles: Annotated[list[Path], typer.Argument(help="Bundle files or folders of them.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the gen_*.jsonl files.")],
) -> None:
    """Write bundles back as AgentWorldModel-1K files (imported bundles come back byte for byte)."""
    try:
        loaded = [read_bundle(p) for p in iter_bundle_files(bundles)]
    except BundleError as exc:
        raise _fail(str(exc)) from None
    counts = write_awm1k(loaded, out)
    for name, count in counts.items():
        console.print(f"{out / name}: {count} record(s)")


@bundle_app.command("validate")
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Bundle files or folders of them.")],
    strict: Annotated[bool, typer.Option(help="Exit 1 when any bundle has any problem (default: only when a bundle "
                                              "cannot be used at all).")] = False,
) -> None:
    """Report every bundle: usable or not, what it lacks, and every problem with its location and what it costs.

    A problem that leaves the rest usable (a verifier that does not parse, a rejected seed row) is reported and
    the bundle still counts as usable: serving and packing quarantine just that part. Exit 1 if a bundle cannot
    be used at all, or with --strict if any has a problem.
    """
    files = list(iter_bundle_files(paths))
    unusable: list[BundleError] = []
    with_problems = 0
    for read in track(read_bundle_files(files, skipped=unusable, measure=inspect_bundle), "validating", total=len(files),
                      console=console, transient=True):
        inspection: Inspection = read.measured
        lacks = f"; lacks: {'; '.join(inspection.lacks)}" if inspection.lacks else ""
        label = Text("ok", style="green") if not inspection.problems else Text(f"ok, {len(inspection.problems)} problem(s)", style="yellow")
        console.print(label, f"{read.path} ({read.bundle.bundle_id}, sha256 {read.sha256[:12]}){lacks}")
        for line in inspection.problems:
            console.print(f"  - {line}")
        with_problems += bool(inspection.problems)
    for error in unusable:
        console.print(Text("unusable", style="red"), str(error))
    console.print(f"{len(files) - len(unusable)} usable ({with_problems} with problems), {len(unusable)} unusable")
    if unusable or (strict and with_problems):
        raise typer.Exit(1)


@bundle_app.command("rehash")
def rehash(path: Annotated[Path, typer.Argument(help="A bundle file edited by hand.")]) -> None:
    """Validate a hand-edited bundle and store its new sha256."""
    try:
        data = read_bundle_json(path)
        data.pop("sha256", None)
        bundle = bundle_from_dict(data, str(path))
    except BundleError as exc:
        raise _fail(str(exc)) from None
    write_bundle(bundle, path)
    console.print(f"{path}: sha256 {bundle.sha256}")


@app.command("demo")
def demo(out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the demo bundles as bundle files here.")] = None) -> None:
    """List the embedded demo bundles (or write them out as bundle files)."""
    for bundle_id in demo_bundle_ids():
        bundle = load_demo_bundle(bundle_id)
        if out is not None:
            write_bundle(bundle, out)
        console.print(f"{bundle_id}: {bundle.display_name}, {len(bundle.tasks)} tasks, {len(bundle.tables)} tables, "
                      f"sha256 {bundle.sha256[:12]}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
