"""Reminders: the officers' morning list of visits due, red warnings past their deadline
escalated to the head and the admin, the day-before reminder of a group session, and
how staff choose to be texted. See docs/care.md ("Notices and reminders")."""
