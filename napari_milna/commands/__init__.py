"""Subcommands of the ``milna`` command, one module each.

``milna NAME`` is the module ``commands/NAME.py``. It declares what is its own and
:func:`register` does the rest, the same for every command:

- the module docstring: a summary line (the usage and what the command does), then the
  paragraph ``milna NAME --help`` shows under the usage (:func:`description`; none when the
  docstring is one paragraph), then notes for developers;
- ``HELP``: the line ``milna --help`` lists for the command;
- ``add_arguments(parser)``: adds the command's own arguments; an option that several
  commands share (``--mask``, ``--roi``, ``--resample-roi``, ``--workers``, ...) is added
  through its helper in :mod:`napari_milna.commands.options`, its value checked by a type of
  :mod:`napari_milna.commands.values`;
- ``run(args) -> dict | None``: the command; it returns the JSON result (a dict) or None.
  A command with actions (``milna roi seed|info|resample``) has no ``run``: its
  ``add_arguments`` adds the actions' parsers, and closes each with :func:`finish`;
- optionally ``OVERWRITE``, the help of ``--overwrite`` for a command that writes files it
  may replace (where ``--overwrite`` stands among the command's other options, as in
  ``milna qc``, ``add_arguments`` adds it with :func:`.options.overwrite`), and
  ``JSON = False`` for a command that prints no result (``milna view``).

:func:`register` adds the sub-parser named after the module, with ``HELP`` and the
description, calls ``add_arguments`` and closes it with :func:`finish` (``--overwrite``,
``--json``, ``func``). Raise :class:`~napari_milna.core.errors.MilnaInputError` for bad
input: the command prints its message on one line and exits with status 2.

Start-up: ``milna --help`` imports every command module, so a module imports only
argparse, the standard library, :mod:`napari_milna.core.errors`,
:mod:`napari_milna.core.protocol` (the defaults its options show), :mod:`.options` and
:mod:`.values` at module level; everything else of core is imported inside ``run()``.
"""

from . import options


def description(doc: str) -> str | None:
    """The description ``milna COMMAND --help`` shows: the module docstring's second paragraph.

    A command module's docstring starts with a summary line (the usage and what the command
    does), then the paragraph the help shows under the usage; further paragraphs are notes for
    developers. A docstring of one paragraph gives no description (None).
    """
    paragraphs = doc.split("\n\n")
    return paragraphs[1] if len(paragraphs) > 1 else None


def register(subparsers, module) -> None:
    """Add ``milna NAME`` to ``subparsers`` from its module ``commands/NAME.py``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``milna`` parser's subcommands.
    module : module
        A command module: ``HELP``, ``add_arguments``, ``run`` and optionally ``OVERWRITE`` and
        ``JSON`` (see the module docstring above).
    """
    name = module.__name__.rpartition(".")[2]
    parser = subparsers.add_parser(name, help=module.HELP,
                                   description=description(module.__doc__))
    module.add_arguments(parser)
    if hasattr(module, "run"):
        finish(parser, module.run, overwrite=getattr(module, "OVERWRITE", None),
               json=getattr(module, "JSON", True))


def finish(parser, run, *, overwrite: str | None = None, json: bool = True) -> None:
    """Add the options every command ends with and the function it runs.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's (or action's) parser.
    run : callable
        ``run(args) -> dict | None``, set as ``func``.
    overwrite : str, optional
        Help of ``--overwrite`` (what it replaces); no such option when None.
    json : bool
        Add ``--json`` (print the result as one JSON object); False for a command that prints
        no result.
    """
    if overwrite is not None:
        options.overwrite(parser, overwrite)
    if json:
        parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)
