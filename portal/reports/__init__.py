"""Printed reports (PDF) rendered with WeasyPrint from plain data.

What is printed, and who may print it (the rule of the page each report prints):

| report | route | admin | head | officer | borrower |
|---|---|---|---|---|---|
| visit report | ``/visits/<id>/report.pdf`` | all | branch | own borrowers | own visits |
| training certificate (passed sign-offs) | ``/training/signoffs/<id>/certificate.pdf`` | all | branch | own borrowers | own |
| borrower dossier | ``/borrowers/<id>/dossier.pdf`` | all | branch | own borrowers | own |
| monthly branch report | ``/reports/branch/<code>/<yyyy-mm>.pdf`` | all | own branch | – | – |
| visit pack (parts of 300) | ``/reports/branch/<code>/<yyyy-mm>/visits.pdf?part=n`` | all | own branch | – | – |

One page besides: "Do the warnings work?" (``/reports/warnings``, ``warnings.py``), the
borrowers of each month by the risk level of their visit and how many fell 30+ days
overdue within three months; the head's branch, the admin's company with a row per branch.

A borrower may print their own certificate and dossier: both hold only what their own
pages already show them (loans, training, visits, services; the personal information
law gives them a right to a copy). ID and phone numbers are masked on every report, as
in lists. Every export, from the web or ``flask reports``, is written to the audit log
(``report.<kind>``) after the PDF is made and before it is sent.

Layout: ``data.py`` and ``monthly.py`` turn models into plain dataclasses (through
``queries.py`` and the visits feature's compliance rule), ``charts.py`` draws SVG,
``rendering.py`` holds the per-process WeasyPrint set-up, ``pack.py`` renders many
visits in worker processes, ``cli.py`` is ``flask reports``, ``warnings.py`` computes what
became of the warnings (the page and a section of the monthly report). Templates: ``templates/pdf/``;
styles: ``static/pdf/``; benchmark: ``bench/pdf.py`` (``make bench-pdf``).
"""
