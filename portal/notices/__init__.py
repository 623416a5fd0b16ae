"""The borrower's notices: a line for each change on their service requests and complaints."""
