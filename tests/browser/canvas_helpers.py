"""What the canvas browser tests share: logging in, opening a canvas, watching for errors."""

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from designer.drafts import create_workflow

PASSWORD = "correct horse battery"


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def collect_errors(page: Page) -> list[str]:
    """Console errors, page errors and failed responses other than the expected conflicts."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    def response(r: Any) -> None:
        if r.status >= 400 and r.status != 409:
            problems.append(f"{r.status} {r.url}")

    page.on("response", response)
    return problems


def open_canvas(page: Page, base_url: str, slug: str) -> None:
    page.goto(f"{base_url}/designer/{slug}/")
    # (Only people who may edit get the palette; everyone gets the toolbar.)
    expect(page.get_by_role("toolbar", name="Canvas")).to_be_visible()
    expect(page.locator("html[data-canvas-ready='1']")).to_have_count(1)


def open_panel(page: Page, base_url: str, user: str, slug: str, graph: Any, node: str) -> Locator:
    """The side panel of `node` in a new draft `slug` holding `graph`, open for `user`."""
    create_workflow(slug=slug, title=slug.title(), user=None, graph=graph)
    log_in(page, base_url, user)
    open_canvas(page, base_url, slug)
    page.get_by_test_id(f"node-{node}").click()
    return page.locator("#panel")


def drag_from_palette(page: Page, title: str, x: float, y: float) -> None:
    """Drag a palette entry onto the canvas at (x, y), relative to the canvas pane."""
    item = page.get_by_role("button", name=f"Add {title}:")
    pane = page.locator(".react-flow__pane")
    item.drag_to(pane, target_position={"x": x, "y": y})


def connect(page: Page, source: str, handle: str, target: str) -> None:
    """Draw an edge from a labelled output to a node's input (or its body if it has none)."""
    node = page.get_by_test_id(f"node-{target}")
    inputs = node.locator(".handle-in")
    page.get_by_test_id(f"handle-{source}-{handle}").drag_to(inputs if inputs.count() else node)


def publish_expense_demo(make_user: Any) -> str:
    """The demo expense approval, published, with the admin its VP step names; returns its slug."""
    from designer.demo_graphs import demo_graph
    from designer.drafts import create_workflow, publish

    slug = "canvas-expense-approval"
    make_user("admin", is_superuser=True)
    workflow, problems = create_workflow(
        slug=slug, title="Expense approval", user=None, graph=demo_graph(slug).graph
    )
    assert problems == []
    publish(workflow, None)
    return slug


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def audit(page: Page, *selectors: str) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2 A and AA rules) over the given parts of the page."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the debugging protocol: the page's strict CSP does not apply.
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async (selectors) => {
            const found = await axe.run(
                {include: selectors.map((s) => [s])},
                {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}},
            );
            return found.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ")),
            }));
        }""",
        list(selectors),
    )
    return list(result)
