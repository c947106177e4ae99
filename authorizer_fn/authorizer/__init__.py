"""Lambda TOKEN authorizer: `Authorization: Bearer <token>` checked against SHA-256 hashes kept in SSM."""
