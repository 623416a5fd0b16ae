"""Customer-care helpers: greeting occasions and the dates they fall on."""
