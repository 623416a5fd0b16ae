"""Visit evidence: the flags that show a visit may not have happened as recorded, and the head's check."""
