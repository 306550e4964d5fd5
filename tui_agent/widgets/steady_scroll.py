"""A scroll view whose own size never depends on its content: the log and the code viewer.

Textual relayouts the whole screen when a widget's virtual size changes, and a relayout repaints
everything (~20 ms on two cores). These views only grow inside a fixed box, so a new line needs
their scrollbars updated in place, and a relayout only when a scrollbar appears or goes."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView


class SteadyScrollView(ScrollView):
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        self._scroll_update(new)
        width, height = self.scrollable_content_region.size
        if (old.width > width) != (new.width > width) or (old.height > height) != (new.height > height):
            self.refresh(layout=True)
