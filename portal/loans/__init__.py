"""Loans: application, committee decision, contract, disbursement, repayment, closing."""
