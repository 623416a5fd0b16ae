"""Monthly post-loan follow-up visits (贷后跟踪调查) and their risk assessment."""
