"""The figures the practice is judged by, for the company (admin) and a branch (head), over any period."""
