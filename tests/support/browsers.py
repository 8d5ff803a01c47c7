"""Debian's chromium for the browser tests, the Content-Security-Policy violations its pages report, and
axe-core's WCAG 2.1 AA checks of a page."""
from pathlib import Path

from tests.support.paths import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 8000
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# Left to be looked at, never compared; a folder per page family.
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


CSP_VIOLATIONS = []


def watch_csp(browser):
    """Every page of every context reports Content-Security-Policy violations to CSP_VIOLATIONS."""
    new_context = browser.new_context

    def watched(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.on(
            "console",
            lambda message: (
                CSP_VIOLATIONS.append(f"{message.page.url if message.page else ''}: {message.text}")
                if "Content Security Policy" in message.text else None
            ),
        )
        return context

    browser.new_context = watched


AXE = "/static/vendor/axe-core-4.14.1/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page):
    page.add_script_tag(url=AXE)
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(
            n["target"][0] if isinstance(n["target"][0], str) else str(n["target"]) for n in v["nodes"][:4]
        )
        for v in result["violations"]
    ]
