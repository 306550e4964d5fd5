"""Rich styles from the running theme's variables, for widgets that draw Rich ``Text``
(RichLog, Tree labels): their colours then follow the theme like the CSS does."""

from __future__ import annotations

import contextlib

from rich.style import Style
from textual.app import App
from textual.color import Color


def theme_style(app: App[object], variable: str, *, bold: bool = False) -> Style:
    """Translucent theme colours (``#e0e0e099``) are blended over the background first."""
    variables = app.get_css_variables()
    style = Style(bold=bold or None)
    with contextlib.suppress(Exception):
        background = Color.parse(variables.get("background", "black"))
        colour = background + Color.parse(variables.get(variable) or variables["foreground"])
        style += Style(color=colour.rich_color)
    return style
