"""Subcommands of the ``milna`` command, one module each.

A module provides ``add_parser(subparsers)``, which registers its sub-parser and
sets ``func`` to a callable taking the parsed arguments and returning a dict (the
JSON result) or None. Raise :class:`~napari_milna.core.errors.MilnaInputError` for
bad input: the command prints its message on one line and exits with status 2.
"""
