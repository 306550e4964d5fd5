"""Scroll views whose own size never depends on their content: the log, the code viewer and the
tool tree.

Textual relayouts the whole screen when a widget's virtual size changes, and a relayout repaints
everything (10-20 ms on two cores). These views only grow inside a fixed box, so new content
needs their scrollbars updated in place, and a relayout only when an ``auto`` scrollbar appears
or goes."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.widget import Widget


class SteadyScroll:
    """Mixin for a ScrollView subclass (ScrollView or Tree)."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        view: ScrollView = self  # type: ignore[assignment]
        view._scroll_update(new)
        width, height = view.scrollable_content_region.size
        styles = view.styles
        if (styles.overflow_x == "auto" and (old.width > width) != (new.width > width)) or (
            styles.overflow_y == "auto" and (old.height > height) != (new.height > height)
        ):
            Widget.refresh(view, layout=True)  # past any subclass that drops layout requests


class SteadyScrollView(SteadyScroll, ScrollView):
    pass
