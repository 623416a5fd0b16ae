"""Uploads are judged by decoding them, not by their name."""

import io

import pytest

from tests.borrowers.helpers import counts, english, onboarding_data, page_text

NOT_IMAGES = {
    "script": b"<?php system($_GET['c']); ?>",
    "html": b"<html><script>alert(1)</script></html>",
    "pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n",
    "truncated png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
}


@pytest.mark.parametrize("content", NOT_IMAGES.values(), ids=NOT_IMAGES.keys())
def test_a_non_image_renamed_png_is_refused_and_nothing_is_written(client, world, app, content):
    client.login("officer")
    english(client)
    before = counts(app)
    data = onboarding_data(id_card_photo=(io.BytesIO(content), "id-card.png"))
    response = client.submit("/borrowers/new", data, content_type="multipart/form-data")
    page = page_text(response)
    assert response.status_code == 200
    assert 'id="id_card_photo-errors"' in page
    assert counts(app) == before
