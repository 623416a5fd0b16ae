"""Integrity training (诚信培训): versioned material, a comprehension check, a signed sign-off."""
