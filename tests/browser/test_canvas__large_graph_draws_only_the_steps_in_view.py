"""In Chromium: a 1,000-step graph opens fitted, drawing only the steps in view (never all of
them to measure them first, nor those at the unfitted 100 % in full), while the minimap shows
every step; panning draws the others."""

import re

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from tests.browser.canvas_helpers import collect_errors, log_in, open_canvas
from tests.engine.graph.builders import chain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = 1000

# The most steps in the document at one moment, and whether any was drawn in full, watched from
# before the canvas mounts.
COUNT_DRAWN = """
window.__mostSteps = 0;
window.__fullSteps = 0;
new MutationObserver((records) => {
  const drawn = document.querySelectorAll('.react-flow__node').length;
  if (drawn > window.__mostSteps) window.__mostSteps = drawn;
  // From the records: a step drawn and removed again within one task is gone from the document.
  for (const record of records) {
    for (const added of record.addedNodes) {
      if (added.nodeType !== 1) continue;
      if (added.matches('.step-head') || added.querySelector('.step-head')) window.__fullSteps++;
    }
  }
}).observe(document, { subtree: true, childList: true });
"""


def test_a_large_graph_opens_fitted_drawing_only_the_steps_in_view(
    page: Page, daphne_server: str, make_user
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    create_workflow(slug="large", title="Large", user=None, graph=chain(STEPS))
    log_in(page, daphne_server, "dora")
    page.add_init_script(COUNT_DRAWN)

    open_canvas(page, daphne_server, "large")
    # Every step is on the minimap, from its estimated size before it is ever drawn.
    expect(page.locator(".react-flow__minimap-node")).to_have_count(STEPS)
    # Fitted on opening: at the closest zoom out (0.1), not at the unfitted 100 %.
    viewport = page.locator(".react-flow__viewport")
    expect(viewport).to_have_attribute("style", re.compile(r"scale\(0\.1\)"))
    expect(page.locator(".react-flow__node").first).to_be_visible()
    drawn = page.locator(".react-flow__node").count()
    most = page.evaluate("window.__mostSteps")
    # At zoom 0.1 a third of the chain is in view; drawing them all once (to measure them) was
    # what made the first render of a large graph slow.
    assert 0 < drawn <= most < STEPS / 2, (drawn, most)
    # Nor were the steps at the unfitted 100 % drawn in full before the fit replaced them.
    assert page.evaluate("window.__fullSteps") == 0

    # Panning up (Shift+Up, 200 px a press) brings the top of the chain into view: its first
    # step is drawn then, with its edge.
    start = page.get_by_test_id("node-start")
    expect(start).to_have_count(0)
    for _ in range(15):
        page.keyboard.press("Shift+ArrowUp")
        if start.count():
            break
    expect(start).to_be_visible()
    expect(page.locator('.react-flow__edge[data-id="start>>n1"]')).to_have_count(1)
    assert errors == []
