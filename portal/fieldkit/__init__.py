"""The field kit, server side: the officer's day plan, the kit's data, visits received from the tablet
exactly once, and entries held for the head when they cannot become a visit."""
