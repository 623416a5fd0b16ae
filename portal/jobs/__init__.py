"""Work that runs on its own: the task queue (Huey), its worker, and reports as jobs.

``queue.py`` holds the one Huey instance (SQLite file by default, Redis by setting) and
the worker's heartbeat; ``tasks.py`` the tasks and the periodic schedule (greetings,
retries, the nightly tier refresh, cleaning up expired files); ``reports.py`` renders
the visit pack, the branch report and the borrower dossier into stored files;
``views.py`` the progress page, its JSON status, the download and the admin's queue.
See docs/jobs.md.
"""
