"""In Chromium: zoomed out past reading, a 1,000-step graph draws its steps plain (a box, a name
and handles: few elements each) with edges as bare lines meeting their handles; zoomed in, steps
are drawn in full with connectable handles, edges still meet them, and a step can be edited."""

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from tests.browser.canvas_helpers import collect_errors, log_in, open_canvas
from tests.engine.graph.builders import chain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = 1000

# Elements inside the drawn steps, per step.
ELEMENTS_PER_STEP = """() => {
  const steps = document.querySelectorAll('.react-flow__node');
  return document.querySelectorAll('.react-flow__node *').length / steps.length;
}"""

# For every drawn edge whose two steps are drawn: how far (in flow units, so whatever the zoom)
# its ends are from the source's output handle and the target's input handle, as React Flow
# places them (the right edge of an output's handle, the left edge of an input's, mid-height).
EDGE_END_GAPS = """() => {
  const zoom = new DOMMatrixReadOnly(
    getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a;
  const gaps = [];
  for (const group of document.querySelectorAll('.react-flow__edge')) {
    const [source, target] = group.dataset.id.split('>>');
    const out = document.querySelector(
      `.react-flow__node[data-id="${source}"] .source[data-handleid="out"]`);
    const input = document.querySelector(
      `.react-flow__node[data-id="${target}"] .target[data-handleid="in"]`);
    if (!out || !input) continue;
    const path = group.querySelector('path.react-flow__edge-path');
    const matrix = path.getScreenCTM();
    const start = path.getPointAtLength(0).matrixTransform(matrix);
    const end = path.getPointAtLength(path.getTotalLength()).matrixTransform(matrix);
    const from = out.getBoundingClientRect();
    const to = input.getBoundingClientRect();
    gaps.push(Math.max(
      Math.abs(start.x - from.right), Math.abs(start.y - (from.top + from.height / 2)),
      Math.abs(end.x - to.left), Math.abs(end.y - (to.top + to.height / 2)),
    ) / zoom);
  }
  return gaps;
}"""


# The drawn step nearest the middle of the canvas (others may lie under the palette).
MIDDLE_STEP = """() => {
  const box = document.querySelector('.flow-wrapper').getBoundingClientRect();
  const middle = (rect) => Math.hypot(
    rect.x + rect.width / 2 - (box.x + box.width / 2),
    rect.y + rect.height / 2 - (box.y + box.height / 2));
  const steps = [...document.querySelectorAll('.react-flow__node')];
  steps.sort((a, b) => middle(a.getBoundingClientRect()) - middle(b.getBoundingClientRect()));
  return steps[0].dataset.id;
}"""


def _zoom(page: Page, key: str, presses: int) -> None:
    viewport = page.locator(".react-flow__viewport")
    for _ in range(presses):
        before = viewport.get_attribute("style") or ""
        page.keyboard.press(key)
        expect(viewport).not_to_have_attribute("style", before)


def _edges_meet_their_handles(page: Page) -> None:
    gaps = page.evaluate(EDGE_END_GAPS)
    assert gaps, "no edge with both of its steps drawn"
    assert max(gaps) < 1.5, sorted(gaps)[-5:]


def test_zoomed_out_steps_are_plain_and_full_again_when_zoomed_in(
    page: Page, daphne_server: str, make_user
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    create_workflow(slug="plain", title="Plain", user=None, graph=chain(STEPS))
    log_in(page, daphne_server, "dora")
    open_canvas(page, daphne_server, "plain")

    # Fitted at zoom 0.1: every drawn step is plain, with a handle for each edge to meet.
    steps = page.locator(".react-flow__node")
    expect(steps.first).to_be_visible()
    drawn = steps.count()
    assert drawn > 100, drawn
    expect(page.locator("[data-drawing=plain]")).to_have_count(drawn)
    expect(page.locator(".step-head")).to_have_count(0)
    # A box, its name and three handles (in, out, error).
    assert page.evaluate(ELEMENTS_PER_STEP) <= 5
    # Edges are bare lines: no wider invisible path to click, too thin to aim at this far out.
    expect(page.locator(".react-flow__edge-interaction")).to_have_count(0)
    _edges_meet_their_handles(page)

    # "=" zooms in by 1.2: thirteen presses pass 100 %. The steps in view are drawn in full,
    # with handles that start a connection, and edges meet them where they are now.
    _zoom(page, "=", 13)
    expect(page.locator("[data-drawing=plain]")).to_have_count(0)
    drawn = steps.count()
    assert 0 < drawn < 100, drawn
    expect(page.locator(".step-head")).to_have_count(drawn)
    assert page.locator(".react-flow__handle.connectable").count() >= 2 * drawn
    assert page.evaluate(ELEMENTS_PER_STEP) > 12
    assert page.locator(".react-flow__edge-interaction").count() > 0
    _edges_meet_their_handles(page)

    # Editing a step drawn in full: its new label shows, and shows on its plain drawing too.
    target = page.evaluate(MIDDLE_STEP)
    page.get_by_test_id(f"node-{target}").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Transform")).to_be_visible()
    panel.get_by_label("Label").fill("Renamed step")
    panel.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id(f"node-{target}")).to_contain_text("Renamed step")
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")
    page.keyboard.press("Escape")
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})

    _zoom(page, "-", 6)
    plain = page.get_by_test_id(f"node-{target}")
    expect(plain).to_have_attribute("data-drawing", "plain")
    expect(plain).to_contain_text("Renamed step")
    expect(page.locator(".step-head")).to_have_count(0)
    # Steps measured in full keep their size drawn plain, so edges still meet their handles.
    _edges_meet_their_handles(page)
    assert errors == [], errors
