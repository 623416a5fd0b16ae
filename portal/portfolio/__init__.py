"""Portfolio quality: portfolio at risk, write-offs and repayment rate on any day, by officer, branch and company."""
