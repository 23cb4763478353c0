"""Messages of the milna panel: napari notifications and a panel's status line.

Every tab reports through :func:`notify` (one napari notification, the viewer never
sees an exception) and shows the state of its last step in a :class:`StatusLabel`.
"""

from __future__ import annotations

import html

from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel

_NOTIFY = {"info": show_info, "warning": show_warning, "error": show_error}

#: Colours of status texts (dark napari theme).
WARN_COLOUR = "#ffb000"
ERROR_COLOUR = "#ff6b6b"


def notify(level: str, text: str) -> None:
    """One napari notification (``level``: info, warning or error)."""
    _NOTIFY.get(level, show_info)(text)


def escape(text: str) -> str:
    """Plain text made safe for a rich-text QLabel."""
    return html.escape(str(text))


def coloured(text: str, colour: str) -> str:
    """Rich text in a colour."""
    return f'<span style="color:{colour}">{escape(text)}</span>'


class StatusLabel(QLabel):
    """A rich-text, word-wrapped, selectable label that takes no room while empty."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        """Show ``text``; hide the label when it is empty."""
        super().setText(text)
        self.setVisible(bool(text))
