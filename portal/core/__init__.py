"""What every page shares: home, health check, languages, headers and error pages."""
