"""The starting vocabulary of business tags (code, Chinese, English); the admin edits it later.

Migration 0005 stores the same list; the demo loader and tests restore it with
``ensure_default_tags`` when a database has lost it.
"""

import sqlalchemy as sa

from portal.extensions import db
from portal.networking.models import BusinessTag

DEFAULT_TAGS = (
    ("feed", "饲料", "Feed"),
    ("hogs", "生猪", "Hogs"),
    ("piglets", "仔猪", "Piglets"),
    ("ducks", "鸭子", "Ducks"),
    ("poultry", "家禽", "Poultry"),
    ("eggs", "禽蛋", "Eggs"),
    ("vegetables", "蔬菜", "Vegetables"),
    ("fruit", "水果", "Fruit"),
    ("grain", "粮食", "Grain"),
    ("fertiliser", "化肥", "Fertiliser"),
    ("manure", "农家肥", "Manure"),
    ("seeds", "种子种苗", "Seeds and seedlings"),
    ("farm_machinery", "农机", "Farm machinery"),
    ("transport", "运输", "Transport"),
    ("cold_storage", "冷藏", "Cold storage"),
    ("veterinary", "兽医兽药", "Veterinary services"),
    ("catering", "餐饮", "Catering"),
    ("labour", "劳务", "Farm labour"),
)


def ensure_default_tags() -> dict[str, BusinessTag]:
    """Add the default words that are missing; return every tag by code."""
    existing = {tag.code: tag for tag in db.session.scalars(sa.select(BusinessTag))}
    for code, name_zh, name_en in DEFAULT_TAGS:
        if code not in existing:
            existing[code] = BusinessTag(code=code, name_zh=name_zh, name_en=name_en)
            db.session.add(existing[code])
    db.session.flush()
    return existing
