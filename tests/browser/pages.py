"""What several browser tests do on the real pages: wait for a condition, sign."""

import time


def until(page, expression: str, seconds: float = 20) -> None:
    """Poll a JS expression (wait_for_function would need eval, which the CSP forbids)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false: {expression}"
        page.wait_for_timeout(50)


def sign(page, field: str = "signature") -> None:
    """Draw a signature on the pad of `field`, scrolled into view first (a busy page may
    still be laying out), and wait until the pad has put it into its hidden input."""
    canvas = page.locator(f"[data-signature-field={field}] canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    left, top = box["x"], box["y"]
    page.mouse.move(left + 40, top + box["height"] * 0.5)
    page.mouse.down()
    for step in range(1, 20):
        x = left + 40 + step * (box["width"] - 80) / 19
        y = top + box["height"] * (0.5 + (0.15 if step % 2 else -0.15))
        page.mouse.move(x, y, steps=3)
    page.mouse.up()
    until(
        page,
        f"document.querySelector('input[name={field}]').value.startsWith('data:image/png;base64,')",
    )
