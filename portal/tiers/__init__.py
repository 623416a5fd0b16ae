"""Client tiers: strategic / key / general / potential, suggested by rule, set by the head."""
