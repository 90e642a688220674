"""Auth: the people and programs allowed in (users, API tokens), their roles and sessions."""
