"""The field kit on the tablet: the service worker, the pages that work offline, the outbox."""
