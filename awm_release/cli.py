"""`awm`: bundle tooling (AWM-1K import/export, validation)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table
from rich.text import Text

from awm_release.awm1k import read_awm1k, write_awm1k
from awm_release.bundle import BundleError, bundle_from_dict
from awm_release.bundle_io import iter_bundle_files, read_bundle, read_bundle_json, write_bundle
from awm_release.demo import demo_bundle_ids, load_demo_bundle
from awm_release.terminal import labelled, plain_console, print_error

console = plain_console()
err_console = plain_console(stderr=True)  # errors stay on one line, greppable
# Help is click's plain formatter everywhere (rich_markup_mode=None): Rich's option tables cut long option names and
# values at 80 columns, and read bracketed text as markup.
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Agent World Model release tooling: bundles, AWM-1K files, validation.")
bundle_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Check and maintain bundle files.")
app.add_typer(bundle_app, name="bundle")
# Command groups of other modules register below, one import and one add_typer line each.
from awm_release.release.cli import release_app  # noqa: E402
app.add_typer(release_app, name="release")
from awm_release.synthesis.cli import gen_app  # noqa: E402
app.add_typer(gen_app, name="gen")
from awm_release.agent.cli import agent_command, eval_app  # noqa: E402
app.command("agent")(agent_command)
app.add_typer(eval_app, name="eval")
from awm_release.training.cli import train_app  # noqa: E402
app.add_typer(train_app, name="train")
from awm_release.viewer.cli import runs_app, view_command  # noqa: E402
app.command("view")(view_command)
app.add_typer(runs_app, name="runs")


def _fail(message: str) -> typer.Exit:
    print_error(err_console, message)
    return typer.Exit(2)


@app.command("import-awm1k")
def import_awm1k(
    source: Annotated[Path, typer.Argument(help="Folder with any subset of the eight gen_*.jsonl files.")],
    out: Annotated[Path, typer.Argument(help="Folder to write one <bundle_id>.json per scenario into.")],
) -> None:
    """Import AgentWorldModel-1K files as bundles, reporting what each scenario lacks and what was repaired.

    Round trip is lossless: `awm export-awm1k OUT --out DIR` writes the original records back byte for byte.
    """
    try:
        result = read_awm1k(source)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    for bundle in track(result.bundles, description="writing bundles", console=console, transient=True):
        write_bundle(bundle, out)
    table = Table("bundle", "records", "lacks", "notes", title=f"{len(result.bundles)} bundle(s) -> {out}")
    complete = 0
    for bundle in result.bundles:
        note = result.notes[bundle.bundle_id]
        complete += not note.missing
        remarks = [f"repaired {r}" for r in note.seed_repairs] + [f"duplicate {d} (first kept)" for d in note.duplicates]
        remarks += note.errors
        table.add_row(bundle.bundle_id, str(sum(note.sources.values())), "; ".join(note.missing) or "-", "\n".join(remarks) or "-")
    console.print(table)
    console.print(f"{complete} complete, {len(result.bundles) - complete} partial")
    for error in result.file_errors:
        console.print(*labelled("warning", "yellow", error))
    if result.file_errors:
        raise typer.Exit(1)


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
def validate(paths: Annotated[list[Path], typer.Argument(help="Bundle files or folders of them.")]) -> None:
    """Report every problem of every bundle, with its location; exit 1 if any is invalid."""
    bad = 0
    for path in iter_bundle_files(paths):
        try:
            bundle = read_bundle(path)
        except BundleError as exc:
            bad += 1
            console.print(Text("invalid", style="red"), str(exc))
            continue
        lacks = bundle.missing()
        console.print(Text("ok", style="green"), f"{path} ({bundle.bundle_id}, sha256 {bundle.sha256[:12]})"
                      + (f"; lacks: {'; '.join(lacks)}" if lacks else ""))
    if bad:
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
