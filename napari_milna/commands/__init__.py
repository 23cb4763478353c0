"""Subcommands of the ``milna`` command, one module each.

A module provides ``add_parser(subparsers)``, which registers its sub-parser and
sets ``func`` to a callable taking the parsed arguments and returning a dict (the
JSON result) or None. Raise :class:`~napari_milna.core.errors.MilnaInputError` for
bad input: the command prints its message on one line and exits with status 2.

Start-up: ``milna --help`` imports every command module, so a module imports only
argparse, the standard library and :mod:`napari_milna.core.protocol` (the defaults
its options show) at module level; everything else of core is imported inside
``run()``. The module docstring's second paragraph is the description ``--help``
shows (:func:`description`).
"""


def description(doc: str) -> str:
    """The description ``milna COMMAND --help`` shows: the module docstring's second paragraph.

    A command module's docstring starts with a summary line (the usage and what the command
    does), then the paragraph the help shows under the usage; further paragraphs are notes for
    developers.
    """
    return doc.split("\n\n")[1]


def finish(parser, run, *, overwrite: str | None = None) -> None:
    """Add the options every command ends with and the function it runs.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's (or action's) parser.
    run : callable
        ``run(args) -> dict | None``, set as ``func``.
    overwrite : str, optional
        Help of ``--overwrite`` (what it replaces); no such option when None.
    """
    if overwrite is not None:
        parser.add_argument("--overwrite", action="store_true", help=overwrite)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)
